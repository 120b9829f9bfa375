/** The port as reports name it: "443 (https)" when it is the target's port and has a name, else the number. */
export function portLabel(portNumber: number, target: { port: number; portName?: string }): string {
  return target.portName && target.port === portNumber ? `${portNumber} (${target.portName})` : String(portNumber);
}
