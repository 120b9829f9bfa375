import { defineReader } from './reader.js';

/** The host's /etc/services as text (undefined where there is none), read once per diagnosis. */
export const servicesFileOf = defineReader<void, string | undefined>({
  name: '/etc/services',
  read: (_k, s) => s.host.readFile('/etc/services').catch(() => undefined),
});
