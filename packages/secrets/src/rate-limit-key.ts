import ipaddr from 'ipaddr.js';

/**
 * The key a client's requests are counted under: its IPv4 address (also when
 * it arrives IPv4-mapped, `::ffff:a.b.c.d`), or the /64 network of an IPv6
 * one, in RFC 5952 form (`2001:db8:1:2::/64`). One IPv6 host usually owns a
 * whole /64, so counting single addresses would let it rotate past any limit.
 * Anything that is not an address passes through unchanged.
 */
export function rateLimitKey(ip: string): string {
  if (!ipaddr.IPv6.isValid(ip)) return ip;
  const address = ipaddr.IPv6.parse(ip);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/64`).toString()}/64`;
}
