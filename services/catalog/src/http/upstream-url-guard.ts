import { ValidationError } from '@vreg/contracts';
import { UpstreamAddressBlockedError, type UpstreamAddressPolicy } from '@vreg/upstream-client';
import type { FastifyRequest } from 'fastify';

/** The routes whose body carries an upstream URL to be stored or tested. */
const ROUTES_WITH_UPSTREAM_URL = new Set(['POST /registries/:id/upstreams', 'PATCH /upstreams/:id', 'POST /upstreams/test']);

/** How long the early check waits for DNS before leaving the decision to connect time. */
const RESOLVE_DEADLINE_MS = 2_000;

/**
 * An early SSRF check on the admin API: an upstream URL whose host is, or
 * resolves to, a loopback, link-local (metadata), private or otherwise
 * internal address is refused with 400 unless the allow-list
 * (VREG_UPSTREAM_ALLOWED_NETWORKS) permits it. The upstream client checks
 * again on every connection (redirects, DNS changes); this check only gives
 * the administrator a clear answer now. A name that does not resolve here is
 * accepted: the fetcher may see another DNS, and connect time decides.
 */
export function upstreamUrlGuard(policy: UpstreamAddressPolicy) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!ROUTES_WITH_UPSTREAM_URL.has(`${request.method} ${request.routeOptions.url?.replace(/^.*?(\/registries|\/upstreams)/, '$1')}`))
      return;
    const url = (request.body as { url?: unknown } | undefined)?.url;
    if (typeof url !== 'string') return;
    let hostname: string;
    try {
      hostname = new URL(url).hostname;
    } catch {
      return; // the domain's URL rules answer a malformed URL with their own message
    }
    try {
      await withDeadline(policy.checkHost(hostname), RESOLVE_DEADLINE_MS);
    } catch (err) {
      if (err instanceof UpstreamAddressBlockedError) {
        throw new ValidationError(`upstream url refused: ${err.message}`, { field: 'url', address: err.address });
      }
      // Not resolvable (yet): the connection-time check decides.
    }
  };
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
