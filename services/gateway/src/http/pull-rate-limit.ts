import { TooManyRequestsError } from '@vreg/contracts';
import { rateLimitKey } from '@vreg/secrets';
import type { FastifyRequest } from 'fastify';
import type { RequestRateLimiter } from '../domain/request-rate-limiter.ts';

/**
 * An `onRequest` hook for the pull API: each client address (`request.ip`,
 * which honours VREG_TRUST_PROXY; an IPv6 client by its /64) may make `limit` requests per window; past
 * it, 429 TOOMANYREQUESTS with `Retry-After` until the window ends (the
 * route's OCI error handler writes it). Checked before authentication, so a
 * flood costs nothing but a map lookup.
 */
export function pullRateLimit(limiter: RequestRateLimiter, describe: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const wait = limiter.take(rateLimitKey(request.ip));
    if (wait !== undefined)
      throw new TooManyRequestsError(`too many requests from this address (at most ${describe}): retry after ${wait}s`, wait);
  };
}
