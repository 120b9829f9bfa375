/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '::1' || /^127\./.test(a);
}

/** Any address of a family: `0.0.0.0`, `::`, or ss's dual-stack `*`. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '*';
}

/** Strips brackets, zone ids and the ::ffff: prefix of IPv4-mapped addresses. */
export function normalizeAddress(address: string): string {
  let a = address.replace(/^\[|\]$/g, '').split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1]!;
  return a;
}
