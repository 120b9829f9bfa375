import { describe, expect, it } from 'vitest';
import { displayWidth, outputColumns } from '../../src/text/terminal.js';
import { progressLines } from '../../src/ui/terminal.js';

// A step's progress line after ora's "✔ " (two columns), at any terminal width.

const step = {
  summary: 'no other network namespace of this host (3 looked at) has a listener on port 7071',
  command: "iptables -t nat -S; nft list ruleset | grep -n 'dnat\\|redirect'; ss -Htlnp 'sport = :7071'",
};

describe('progressLines', () => {
  it('keeps summary and command on one line when they fit', () => {
    expect(progressLines({ summary: 'nothing listens on port 7071', command: "ss -Htlnp 'sport = :7071'" }, 80)).toBe("nothing listens on port 7071  $ ss -Htlnp 'sport = :7071'");
  });

  for (const width of [40, 60, 80]) {
    it(`at ${width} columns: every line fits after the symbol, and words stay whole`, () => {
      const lines = `✔ ${progressLines(step, width)}`.split('\n');
      for (const line of lines) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
      // The summary continues under its text; the command follows on lines of its own.
      expect(lines.slice(1).every((l) => l.startsWith('  '))).toBe(true);
      const text = lines.map((l) => l.trim()).join(' ');
      for (const word of step.summary.split(' ')) expect(text.split(' ')).toContain(word);
      expect(lines.some((l) => l.startsWith('  $ iptables'))).toBe(true);
    });
  }

  it('paints only the command', () => {
    expect(progressLines(step, 60, (s) => `<${s}>`)).toMatch(/^no other[^<]*\n {2}a listener[^<]*\n<  \$ iptables/);
  });
});

describe('outputColumns', () => {
  it("stdout's terminal, else stderr's, else $COLUMNS, else 80", () => {
    expect(outputColumns({ stdout: 100, stderr: 60, env: '50' })).toBe(100);
    expect(outputColumns({ stderr: 60, env: '50' })).toBe(60);
    expect(outputColumns({ stdout: 0, env: '50' })).toBe(50);
    expect(outputColumns({ env: 'wide' })).toBe(80);
    expect(outputColumns({})).toBe(80);
  });
});
