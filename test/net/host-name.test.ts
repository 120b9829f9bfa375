import { describe, expect, it } from 'vitest';
import { asciiHostName, nameToSend } from '../../src/net/host-name.js';

describe('the name a client sends (SNI, Host, server_name)', () => {
  it('an internationalised name in punycode, an ASCII name as it is', () => {
    expect(asciiHostName('例え.jp')).toBe('xn--r8jz45g.jp');
    expect(nameToSend('例え.jp')).toBe('xn--r8jz45g.jp');
    expect(nameToSend('db.internal')).toBe('db.internal');
  });
  it('none for an address literal', () => {
    expect(nameToSend('10.0.0.5')).toBeUndefined();
    expect(nameToSend('::1')).toBeUndefined();
  });
});
