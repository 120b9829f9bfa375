import { isLoopback } from '../net/address.js';
import { REDIS } from '../knowledge/service-settings.js';
import type { RedisConfReading, RedisDirective } from '../system/redis-conf.js';
import type { SettingVerdict, SourceLine } from './service-setting.js';

/** The placeholder a fix writes where a password goes: whyport never makes one up or prints one. */
export const PASSWORD_PLACEHOLDER = '<long-random-password>';

/**
 * Whether Redis's default user needs no password (its `nopass` flag): a `user default` rule
 * resets the user and applies its words in order; else `requirepass` sets the password ("" is
 * none); else the default user is nopass.
 */
export function defaultUserNopass(user: RedisDirective | undefined, requirepass: RedisDirective | undefined): boolean {
  if (user) {
    let nopass = false;
    let passwords = 0;
    for (const rule of user.args.slice(1)) {
      const r = rule.toLowerCase();
      if (r === 'nopass') [nopass, passwords] = [true, 0];
      else if (r === 'resetpass' || r === 'reset') [nopass, passwords] = [false, 0];
      else if (rule.startsWith('>') || rule.startsWith('#')) [nopass, passwords] = [false, passwords + 1];
      else if (rule.startsWith('<') || rule.startsWith('!')) passwords = Math.max(0, passwords - 1);
    }
    return nopass;
  }
  return !requirepass || (requirepass.args[0] ?? '') === '';
}

const ref = (s: SourceLine) => (s.line > 0 ? `${s.file}:${s.line}` : 'the command line');

/**
 * Decides Redis 7's protected mode for a client: with protected mode on and no password for the
 * default user, only loopback and unix-socket clients are served; everyone else gets `-DENIED`.
 * The setting is the `protected-mode yes` line (absent: on by default); the fix sets a password
 * for the default user (a placeholder, in the line that already names it where there is one) and
 * restarts the server. Turning protected mode off is worded as the risk it is.
 */
export function decideRedisProtected(conf: RedisConfReading, clientAddress: string, opts: { unit?: string } = {}): SettingVerdict {
  const { access } = conf;
  const evidence = [`${conf.path}: ${conf.directives.length} directive${conf.directives.length === 1 ? '' : 's'} read`];
  if (access.bind) evidence.push(`bind: ${ref(access.bind.source)}: ${access.bind.source.text}`);
  if (access.protectedMode) evidence.push(`protected-mode: ${ref(access.protectedMode.source)}: ${access.protectedMode.source.text}`);
  const restart = [REDIS.restart(opts.unit && /^redis-server@(.+?)(\.service)?$/.exec(opts.unit)?.[1])];

  if (isLoopback(clientAddress)) {
    return { outcome: 'admits', explanation: `protected mode never turns away a loopback client (${clientAddress})`, evidence };
  }
  const mode = access.protectedMode?.args[0]?.toLowerCase();
  if (mode === 'no') {
    return { outcome: 'admits', setting: access.protectedMode!.source, explanation: `${ref(access.protectedMode!.source)} turns protected mode off`, evidence };
  }
  const fromAcl = conf.acl?.defaultUser;
  if (conf.acl && !fromAcl && conf.acl.problems.length > 0) {
    return { outcome: 'undecided', explanation: `the default user is defined in ${conf.acl.path}, which could not be read: ${conf.acl.problems[0]}`, evidence: [...evidence, ...conf.acl.problems] };
  }
  const user = fromAcl ?? access.defaultUser;
  if (user) evidence.push(`default user: ${ref(user.source)}: ${user.args.slice(1).filter((w) => !/^[>#<!]/.test(w)).join(' ')} (passwords not shown)`);
  else if (access.requirepass) evidence.push(`requirepass: ${ref(access.requirepass.source)} (${(access.requirepass.args[0] ?? '') === '' ? 'empty' : 'set, not shown'})`);
  if (!defaultUserNopass(user, access.requirepass)) {
    const by = user ?? access.requirepass!;
    return { outcome: 'admits', setting: redacted(by), explanation: `the default user needs a password (${ref(by.source)}): protected mode does not apply`, evidence };
  }

  const setting = access.protectedMode?.source;
  const why = setting ? `${ref(setting)} turns protected mode on` : `no protected-mode line in ${conf.path}: protected mode is on by default`;
  const edit = passwordEdit(conf, user);
  return {
    outcome: 'refuses',
    ...(setting ? { setting } : {}),
    explanation: `${why}, and the default user has no password: Redis serves only loopback and unix-socket clients, and answers ${clientAddress} with -DENIED`,
    fix: {
      summary:
        `Give the default user a password (${edit.text.split(' ')[0]} in ${edit.file}, filling in a long random password of your own; clients then AUTH with it) and restart redis-server. ` +
        `Setting protected-mode no instead serves every client that reaches the port without a password: do that only if ${access.bind ? 'the addresses of its bind line' : 'the addresses it listens on'} are trusted networks and a firewall keeps everyone else out.`,
      edit,
      commands: restart,
    },
    evidence,
  };
}

/** A `user`/`requirepass` line with its passwords left out, for the report. */
function redacted(d: RedisDirective): SourceLine {
  const shown = d.source.text
    .split(/\s+/)
    .map((w, i) => (d.name === 'requirepass' && i > 0 ? '<hidden>' : /^[>#<!]/.test(w) ? `${w[0]}<hidden>` : w))
    .join(' ');
  return { ...d.source, text: shown };
}

/** Where the password goes: the `user default` rule in place of its nopass, an empty requirepass, the commented example, or after protected-mode. */
function passwordEdit(conf: RedisConfReading, user: RedisDirective | undefined): NonNullable<SettingVerdict['fix']>['edit'] & object {
  if (user && user.source.line > 0) {
    const words = user.source.text.split(/\s+/).filter((w) => w.toLowerCase() !== 'nopass' && !/^[>#<!]/.test(w));
    return { file: user.source.file, at: 'replace', line: user.source.line, text: [...words, `>${PASSWORD_PLACEHOLDER}`].join(' ') };
  }
  const text = `requirepass ${PASSWORD_PLACEHOLDER}`;
  const rp = conf.access.requirepass;
  if (rp && rp.source.line > 0) return { file: rp.source.file, at: 'replace', line: rp.source.line, text };
  const example = conf.flat.lines.find((l) => l.file === conf.path && /^#\s*requirepass\s/.test(l.text));
  if (example) return { file: example.file, at: 'replace', line: example.line, text };
  const mode = conf.access.protectedMode?.source;
  if (mode && mode.line > 0) return { file: mode.file, at: 'after', line: mode.line, text };
  return { file: conf.path, at: 'append', text };
}
