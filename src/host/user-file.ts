import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

// Files named on the command line (a playbook, a baseline) are read here and nowhere else. whyport
// is often allowed in sudoers, so such a path is not trusted to be a small file: /dev/zero would
// grow without end, a FIFO with no writer would block open() forever, /proc files say size 0.

/** The most whyport reads of a file given on the command line. */
export const USER_FILE_MAX_BYTES = 1024 * 1024;

/** Why a file given on the command line could not be read; `code` is the errno name, or ENOTREG / EFBIG. */
export class UserFileError extends Error {
  constructor(
    readonly reason: string,
    readonly code: string,
  ) {
    super(reason);
    this.name = 'UserFileError';
  }
}

/**
 * The text of a regular file of at most `maxBytes`: opened without blocking (O_NONBLOCK, so a FIFO
 * cannot hang the open), checked on the opened descriptor (no race with a rename), and read in
 * chunks until its end or one byte over the limit. Rejects with a UserFileError whose `reason`
 * fits after "cannot read FILE: ".
 */
export async function readUserFile(path: string, maxBytes = USER_FILE_MAX_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UserFileError(ERRNO_WORDS[code] ?? `${code}`, code);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new UserFileError('is a directory', 'EISDIR');
    if (!info.isFile()) {
      const kind = info.isFIFO() ? 'a FIFO' : info.isCharacterDevice() ? 'a character device' : info.isBlockDevice() ? 'a block device' : info.isSocket() ? 'a socket' : 'not a file';
      throw new UserFileError(`not a regular file (${kind})`, 'ENOTREG');
    }
    const tooBig = () => new UserFileError(`larger than ${Math.round(maxBytes / 1024)} KB: not a file whyport reads`, 'EFBIG');
    if (info.size > maxBytes) throw tooBig();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.alloc(64 * 1024);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        throw new UserFileError(ERRNO_WORDS[code] ?? code, code);
      }
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooBig();
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file (a part of the path is not a directory)',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
  ENXIO: 'no such device',
  EAGAIN: 'not a regular file',
};

/**
 * Writes a new file the user named (`whyport playbook new`): created, never opened if anything is
 * there already — a file, or a link that could point at one (O_EXCL) — so no file is written over.
 * Rejects with a UserFileError (code EEXIST when the name is taken).
 */
export async function writeNewUserFile(path: string, text: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    await handle.writeFile(text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UserFileError(code === 'EEXIST' ? 'it exists already' : code, code);
  } finally {
    await handle?.close();
  }
}
