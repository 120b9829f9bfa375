import { describe, expect, it } from 'vitest';
import { bold, italic, macro, roffLine, roffTag, roffText, roffVerbatimLine } from '../../src/tools/roff.js';

describe('roffText', () => {
  it('prints dashes, backslashes and the quotes of a pasted command as themselves', () => {
    expect(roffText('--ssh-option')).toBe('\\-\\-ssh\\-option');
    expect(roffText('a\\b')).toBe('a\\eb');
    expect(roffText(`'Content-Type' \`x\` ~/.ssh ^`)).toBe("\\(aqContent\\-Type\\(aq \\(gax\\(ga \\(ti/.ssh \\(ha");
  });

  it('turns every non-ASCII character into an escape (groff reads Latin-1)', () => {
    expect(roffText('HOST:PORT — why? 1–65535, step’s, COMMAND ARGS…')).toBe('HOST:PORT \\(em why? 1\\(en65535, step\\(cqs, COMMAND ARGS\\[u2026]');
    expect(roffText('🙂')).toBe('\\[u1F642]');
  });
});

describe('roffLine', () => {
  it('never lets a text line start with a dot or a quote, which roff would read as a request', () => {
    expect(roffLine("'quoted' first")).toBe("\\&'quoted' first");
    expect(roffLine('.dotted and plain')).toBe('\\%.dotted and plain');
    expect(roffTag("'tag")).toBe("\\&'tag");
    expect(roffVerbatimLine('.hidden file')).toBe('\\&.hidden file');
    expect(roffVerbatimLine('  indented')).toBe('\\ \\ indented');
  });

  it('breaks filled text at blanks into lines of at most 80 bytes, guarding each', () => {
    const words = Array.from({ length: 40 }, (_, i) => (i % 7 === 6 ? '.dotted' : `word${i}`));
    const lines = roffLine(words.join(' ')).split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(80);
      expect(l).not.toMatch(/^[.']/);
    }
    expect(lines.join(' ').replace(/\\&|\\%/g, '')).toBe(words.join(' '));
  });

  it('keeps groff from hyphenating paths, options and literal words', () => {
    expect(roffLine(`see ${bold('--file')} and /var/lib/whyport/baseline.json`)).toBe('see \\%\\fB\\-\\-file\\fR and \\%/var/lib/whyport/baseline.json');
  });
});

describe('fonts and macros', () => {
  it('escape their text and quote macro arguments with blanks', () => {
    expect(bold('-h')).toBe('\\fB\\-h\\fR');
    expect(italic('HOST')).toBe('\\fIHOST\\fR');
    expect(macro('SY', 'whyport baseline check')).toBe('.SY "whyport baseline check"');
    expect(macro('TH', 'WHYPORT', '1', 'say "hi"')).toBe('.TH WHYPORT 1 "say \\(dqhi\\(dq"');
  });
});
