import { ANONYMOUS_CLIENT } from '@vreg/contracts';
import type { FastifyRequest } from 'fastify';
import { bearerTokenOf } from '../auth/pull-guard.ts';

/**
 * Who made a pull, for the records of refusals: `access-token:<id>` (the
 * `sub` of the registry token) or `anonymous`. The pull guard has verified
 * any token the request carries before the handler runs (an invalid one is a
 * 401 even on a public registry), so its claims can be read here without
 * checking the signature again.
 */
export function clientOfRequest(request: FastifyRequest): string {
  const token = bearerTokenOf(request);
  const payload = token?.split('.')[1];
  if (payload === undefined) return ANONYMOUS_CLIENT;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub !== '' ? sub.slice(0, 100) : ANONYMOUS_CLIENT;
  } catch {
    return ANONYMOUS_CLIENT;
  }
}
