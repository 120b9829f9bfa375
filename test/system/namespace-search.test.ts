import { describe, expect, it } from 'vitest';
import { namespaceSearchCommand } from '../../src/system/namespaces.js';

describe('namespaceSearchCommand: the namespaces step shows real pids, never a PID placeholder', () => {
  it('a few namespaces: each by its pid, quoted as a shell takes it', () => {
    expect(namespaceSearchCommand([812, 4410], 7071)).toBe("nsenter -t 812 -n ss -Htlnp 'sport = :7071'; nsenter -t 4410 -n ss -Htlnp 'sport = :7071'");
    expect(namespaceSearchCommand([812], 53, 'udp')).toBe("nsenter -t 812 -n ss -Hulnp 'sport = :53'");
  });
  it('many: the loop over what lsns finds; none: the lsns that shows there are none', () => {
    expect(namespaceSearchCommand([1, 2, 3, 4], 7071)).toBe(`for pid in $(lsns -t net -n -o PID); do nsenter -t "$pid" -n ss -Htlnp 'sport = :7071'; done`);
    expect(namespaceSearchCommand([], 7071)).toBe('lsns -t net');
  });
});
