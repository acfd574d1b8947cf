import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client's requests are counted under: its IPv4 address, or the
 * /64 network of an IPv6 one. One IPv6 host usually owns a whole /64, so
 * counting single addresses would let it rotate past any limit.
 */
export function rateLimitKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  const withoutZone = ip.split('%')[0] as string;
  const [head = '', tail] = withoutZone.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (e.g. 64:ff9b::1.2.3.4) holds two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last.length > 0 && isIPv4(last[last.length - 1] as string) ? (last.pop() as string).split('.').map(Number) : undefined;
  if (v4) last.push(((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16).toString(16));
}
