import { describe, expect, it } from 'vitest';
import { parseProcNetUnix } from '../../src/system/unix-sockets.js';

// /proc/net/unix of a Debian 12 host (kernel 6.18) with php-fpm and a datagram socket, as read.
const TEXT = `Num       RefCount Protocol Flags    Type St Inode Path
000000001e455923: 00000003 00000000 00000000 0001 03  1077
00000000a1b2c3d4: 00000002 00000000 00010000 0001 01 20301 /run/php/php8.2-fpm.sock
00000000a1b2c3d5: 00000002 00000000 00010000 0001 01 20302 @/tmp/.X11-unix/X0
00000000a1b2c3d6: 00000002 00000000 00000000 0002 01 20303 /run/systemd/notify
00000000a1b2c3d7: 00000002 00000000 00010000 0005 01 20304 /run/seq socket
00000000a1b2c3d8: 00000003 00000000 00000000 0001 03 20305 /run/php/php8.2-fpm.sock
garbage
`;

describe('parseProcNetUnix', () => {
  it('keeps listening stream and seqpacket sockets, with abstract names and spaces', () => {
    expect(parseProcNetUnix(TEXT)).toEqual([
      { path: '/run/php/php8.2-fpm.sock', inode: 20301 },
      { path: '@/tmp/.X11-unix/X0', inode: 20302 },
      { path: '/run/seq socket', inode: 20304 },
    ]);
  });
  it('an empty table', () => {
    expect(parseProcNetUnix('Num       RefCount Protocol Flags    Type St Inode Path\n')).toEqual([]);
  });
});
