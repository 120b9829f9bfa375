import { describe, expect, it } from 'vitest';
import { compileConfigRegex } from '../../src/text/safe-regex.js';

describe('regular expressions from configuration files', () => {
  it('compiles the ordinary ones, refuses nested quantifiers, back-references and broken ones', () => {
    expect(compileConfigRegex('^app_\\w+$')?.test('app_one')).toBe(true);
    expect(compileConfigRegex('^(www|api)\\.example\\.com$', 'i')?.test('API.example.com')).toBe(true);
    expect(compileConfigRegex('^(a+)+$')).toBeUndefined();
    expect(compileConfigRegex('(\\w*)*x')).toBeUndefined();
    expect(compileConfigRegex('(x|y+){2,}')).toBeUndefined();
    expect(compileConfigRegex('(a)\\1')).toBeUndefined();
    expect(compileConfigRegex('(')).toBeUndefined();
    expect(compileConfigRegex('^/(.*\\.php(/.*)?)$')?.test('/index.php/x')).toBe(true);
  });
});
