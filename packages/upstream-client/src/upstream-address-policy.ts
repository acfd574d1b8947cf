import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError, ErrorCodes, isUpstreamAllowListEntry, splitList } from '@vreg/contracts';

/**
 * Ranges an upstream may not live in unless allowed (SSRF): an upstream URL
 * is set by an administrator through the API, and must not turn vreg into a
 * proxy to its own loopback, the cloud metadata service or the private network.
 */
const BLOCKED_IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, 169.254.169.254 metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const BLOCKED_IPV6: ReadonlyArray<readonly [string, number]> = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b::', 96], // NAT64: would reach any IPv4 address, private ones too
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['2001::', 32], // Teredo: tunnels to an IPv4 address embedded in the address
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];
// IPv4-mapped IPv6 (::ffff:127.0.0.1) is matched against the IPv4 ranges by BlockList itself.

/** Thrown (and handed to undici as a connect error) when an upstream resolves to a blocked address: UPSTREAM_ADDRESS_BLOCKED. */
export class UpstreamAddressBlockedError extends AppError {
  /**
   * @param host the host name or literal address asked for
   * @param address the blocked address it is or resolved to
   */
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      ErrorCodes.upstreamAddressBlocked,
      host === address
        ? `${address} is a loopback, link-local, private or otherwise internal address; allow it in VREG_UPSTREAM_ALLOWED_NETWORKS to use it as an upstream`
        : `${host} resolves to ${address}, a loopback, link-local, private or otherwise internal address; allow it in VREG_UPSTREAM_ALLOWED_NETWORKS to use it as an upstream`,
    );
  }
}

/** `dns.lookup`'s shape, for tests that resolve names their own way. */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * Which addresses vreg may connect to as an upstream: any public address,
 * plus what the allow-list (`VREG_UPSTREAM_ALLOWED_NETWORKS`) names:
 * CIDRs (`10.0.0.0/8`, `fd00::/8`), single addresses (`127.0.0.1`), host
 * names (`registry.internal`) and host name suffixes (`*.corp.example`).
 * An allowed host name is trusted whatever it resolves to.
 */
export class UpstreamAddressPolicy {
  readonly #blocked = new BlockList();
  readonly #allowed = new BlockList();
  readonly #allowedHosts = new Set<string>();
  readonly #allowedSuffixes: string[] = [];
  readonly #resolve: HostResolver;

  /**
   * @param allowList entries as described on the class
   * @param resolve name resolution (the system's `dns.lookup` by default)
   * @throws TypeError naming the first malformed entry
   */
  constructor(allowList: readonly string[] = [], resolve: HostResolver = systemResolver) {
    for (const [net, prefix] of BLOCKED_IPV4) this.#blocked.addSubnet(net, prefix, 'ipv4');
    for (const [net, prefix] of BLOCKED_IPV6) this.#blocked.addSubnet(net, prefix, 'ipv6');
    for (const entry of allowList) this.#allow(entry.trim().toLowerCase());
    this.#resolve = resolve;
  }

  /** Parses the comma-separated `VREG_UPSTREAM_ALLOWED_NETWORKS`; blank or unset allows nothing extra. */
  static fromList(list: string | undefined, resolve?: HostResolver): UpstreamAddressPolicy {
    return new UpstreamAddressPolicy(splitList(list), resolve);
  }

  /** Whether `entry` is a valid allow-list entry (for config validation). */
  static isValidEntry(entry: string): boolean {
    try {
      new UpstreamAddressPolicy([entry]);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether a literal IP address may be connected to. */
  isAddressAllowed(address: string): boolean {
    const bare = unbracket(address);
    const family = isIP(bare);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    return this.#allowed.check(bare, type) || !this.#blocked.check(bare, type);
  }

  /** Whether a host name is on the allow-list by name (then its addresses are not checked). */
  isHostAllowed(hostname: string): boolean {
    const host = unbracket(hostname).toLowerCase().replace(/\.$/, '');
    return this.#allowedHosts.has(host) || this.#allowedSuffixes.some((s) => host.endsWith(s));
  }

  /**
   * Checks a host (name or literal address) the way a connection would:
   * every address it resolves to must be allowed.
   * @throws UpstreamAddressBlockedError naming the first blocked address
   * @throws the resolver's error when the name does not resolve
   */
  async checkHost(hostname: string): Promise<void> {
    const host = unbracket(hostname);
    if (this.isHostAllowed(host)) return;
    if (isIP(host) !== 0) {
      if (!this.isAddressAllowed(host)) throw new UpstreamAddressBlockedError(host, host);
      return;
    }
    for (const { address } of await this.#resolve(host)) {
      if (!this.isAddressAllowed(address)) throw new UpstreamAddressBlockedError(host, address);
    }
  }

  /**
   * A `lookup` for `net.connect`/`tls.connect` (undici passes it through)
   * that fails the connection when any resolved address is blocked, so the
   * check happens on the addresses actually connected to: after redirects
   * and whatever the DNS answers this time (rebinding).
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions | number | ((...args: never[]) => void),
    callback?: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const cb = (typeof options === 'function' ? options : callback) as NonNullable<typeof callback>;
    const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const allowedByName = this.isHostAllowed(hostname);
    dnsLookup(hostname, { ...opts, all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return cb(err, opts.all === true ? [] : '', 0);
      const blocked = allowedByName ? undefined : addresses.find((a) => !this.isAddressAllowed(a.address));
      if (blocked !== undefined)
        return cb(
          new UpstreamAddressBlockedError(hostname, blocked.address) as unknown as NodeJS.ErrnoException,
          opts.all === true ? [] : '',
          0,
        );
      if (opts.all === true) return cb(null, addresses);
      const first = addresses[0];
      if (first === undefined) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return cb(null, first.address, first.family);
    });
  };

  #allow(entry: string): void {
    if (entry === '') return;
    if (!isUpstreamAllowListEntry(entry)) throw new TypeError(`not an address, CIDR or host name: ${entry}`);
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const net = entry.slice(0, slash);
      this.#allowed.addSubnet(net, Number(entry.slice(slash + 1)), isIP(net) === 4 ? 'ipv4' : 'ipv6');
      return;
    }
    const bare = unbracket(entry);
    const family = isIP(bare);
    if (family !== 0) this.#allowed.addAddress(bare, family === 4 ? 'ipv4' : 'ipv6');
    else if (entry.startsWith('*.')) this.#allowedSuffixes.push(entry.slice(1));
    else this.#allowedHosts.add(entry);
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
