import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderText } from '../../src/report/text.js';
import type { Report } from '../../src/report/model.js';
import { firewallWithFindings } from './reports.js';

// diagnosis.ban (CONTRACT): one line in the text and Markdown reports, who bans whom since when.

const banned: Report = {
  ...firewallWithFindings,
  diagnosis: {
    ...firewallWithFindings.diagnosis,
    code: 'CLIENT_BANNED',
    title: 'fail2ban jail nginx-http-auth bans 10.0.0.7 since 2026-12-06 20:52:59: port 80 turns that client away',
    ban: { by: 'fail2ban', jail: 'nginx-http-auth', address: '10.0.0.7', since: '2026-12-06 20:52:59' },
  },
};

describe('a ban in the report', () => {
  it('text: a Ban line', () => {
    expect(renderText(banned, { color: false, width: 100 })).toContain('Ban: fail2ban jail nginx-http-auth bans 10.0.0.7 since 2026-12-06 20:52:59');
  });
  it('Markdown: a Ban line', () => {
    expect(renderMarkdown(banned)).toContain('**Ban:** fail2ban jail `nginx-http-auth` bans `10.0.0.7` since 2026-12-06 20:52:59');
  });
  it('no ban, no line', () => {
    expect(renderText(firewallWithFindings, { color: false, width: 100 })).not.toContain('Ban:');
  });
});
