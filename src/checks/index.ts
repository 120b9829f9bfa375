import type { $ZodType } from 'zod/v4/core';
import type { CheckInfo } from './check.js';
import { arrival } from './arrival.js';
import { clientFirewall } from './client-firewall.js';
import { command } from './command.js';
import { connect } from './connect.js';
import { conntrack } from './conntrack.js';
import { drops } from './drops.js';
import { file } from './file.js';
import { firewall } from './firewall.js';
import { forward } from './forward.js';
import { forwardFirewall } from './forward-firewall.js';
import { http } from './http.js';
import { namespaces } from './namespaces.js';
import { listeners } from './listeners.js';
import { path } from './path.js';
import { portOwner } from './port-owner.js';
import { probe } from './probe.js';
import { protocol } from './protocol.js';
import { refusalSetting } from './refusal-setting.js';
import { processCheck } from './process.js';
import { processListeners } from './process-listeners.js';
import { resolve } from './resolve.js';
import { route } from './route.js';
import { sockets } from './sockets.js';
import { target } from './target.js';
import { unit } from './unit.js';
import { upstream } from './upstream.js';
import type { AnyCheck } from './check.js';

/** Every check a playbook can name; the compiler checks each entry against the Check contract. */
export const checks = {
  target,
  connect,
  sockets,
  listeners,
  'port-owner': portOwner,
  process: processCheck,
  'process-listeners': processListeners,
  unit,
  resolve,
  probe,
  route,
  path,
  firewall,
  'client-firewall': clientFirewall,
  arrival,
  forward,
  'forward-firewall': forwardFirewall,
  namespaces,
  conntrack,
  drops,
  protocol,
  'refusal-setting': refusalSetting,
  upstream,
  command,
  file,
  http,
} satisfies Record<string, AnyCheck>;

export type CheckRegistry = typeof checks;
export type CheckName = keyof CheckRegistry;

/** What the playbook validator needs to know of each check. */
export function checkCatalog(registry: Record<string, AnyCheck> = checks): Record<string, CheckInfo> {
  const out: Record<string, CheckInfo> = {};
  for (const [name, c] of Object.entries(registry)) {
    // Works for classic zod and zod/mini objects alike: both keep the shape in _zod.def.
    const shape = (c.params as unknown as { _zod: { def: { shape?: Record<string, { _zod: { optin?: string } }> } } })._zod.def.shape ?? {};
    out[name] = {
      outcomes: c.outcomes,
      ...(c.refines ? { refines: c.refines as Record<string, string> } : {}),
      evidence: c.evidence,
      params: Object.keys(shape),
      required: Object.entries(shape).filter(([, s]) => s._zod.optin !== 'optional').map(([k]) => k),
      paramSchemas: shape as unknown as Record<string, $ZodType>,
      ...(c.lint ? { lint: c.lint.bind(c) } : {}),
    };
  }
  return out;
}
