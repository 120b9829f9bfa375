/**
 * An address as it stands before `:port` or `%device`: IPv6 in brackets, as ss and URLs write it, so
 * its own colons do not read as the port's. ss's dual-stack wildcard `*` has no colon and stays bare.
 */
export function bracketed(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** `[::1]:7071` or `127.0.0.1:7071`, as ss prints an endpoint. */
export function endpointText(address: string, port: number): string {
  return `${bracketed(address)}:${port}`;
}
