import { defineReader } from './reader.js';

/** One account of /etc/passwd: its name and uid. */
export interface PasswdUser {
  name: string;
  uid: number;
}

/** The accounts of an /etc/passwd text (`name:x:uid:gid:…`), in order; malformed lines are skipped. */
export function usersOfPasswd(text: string): PasswdUser[] {
  const out: PasswdUser[] = [];
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && !name.startsWith('#') && uid !== undefined && /^\d+$/.test(uid)) out.push({ name, uid: Number(uid) });
  }
  return out;
}

/**
 * The host's local accounts (/etc/passwd, read through the host: the server's over --ssh), to name
 * a file's owner; empty when it cannot be read. Accounts of a directory service (LDAP, sssd) are
 * not in it: their files show the uid.
 */
export const passwdUsers = defineReader<void, PasswdUser[]>({
  name: 'passwd',
  read: async (_, s) => usersOfPasswd(await s.host.readFile('/etc/passwd').catch(() => '')),
});
