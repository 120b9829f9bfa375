// The TCP probe belongs to the host (a server over ssh connects from there): re-exported here for
// the client's checks, which always probe from this machine.
export { probeTcp, type ProbeOutcome, type ProbeResult } from '../host/tcp-connect.js';
