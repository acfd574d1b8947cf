import type { AppError } from '@vreg/contracts';
import { ErrorCodes, TooManyRequestsError, UpstreamUnavailableError, type UpstreamView } from '@vreg/contracts';

/** Why one upstream could not serve an object. */
export interface UpstreamFailure {
  upstreamId: string;
  code: string;
  retryAfterSeconds?: number;
}

/**
 * Tries the registry's upstreams in their order: the first that has the
 * object wins. A 404 (attempt resolves undefined), a connection error, a
 * timeout, a 5xx, a 429 or wrong bytes all move on to the next upstream.
 * When none has it the error says why: all answered 404 (or refused our
 * credentials, as Docker Hub does for unknown names) → `notFound()`; all
 * sent something that is not a manifest → that MANIFEST_INVALID (502: the
 * upstream is wrong, not the client, and retrying will not change it);
 * otherwise rate limiting (with the shortest Retry-After) or unavailability.
 */
export async function firstUpstreamWith<T>(
  upstreams: readonly UpstreamView[],
  attempt: (upstream: UpstreamView) => Promise<T | undefined>,
  notFound: () => AppError,
  onFailure?: (upstream: UpstreamView, err: unknown) => void,
): Promise<{ upstream: UpstreamView; value: T }> {
  const failures: UpstreamFailure[] = [];
  let invalid: unknown;
  for (const upstream of upstreams) {
    try {
      const value = await attempt(upstream);
      if (value !== undefined) return { upstream, value };
    } catch (err) {
      onFailure?.(upstream, err);
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : ErrorCodes.upstreamUnavailable;
      const retryAfterSeconds = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      failures.push({ upstreamId: upstream.id, code, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
      if (code === ErrorCodes.manifestInvalid) invalid ??= err;
      // Our own deadline or cancellation ends the whole chain, not just this upstream.
      const name = (err as { name?: unknown }).name;
      if (name === 'AbortError' || name === 'TimeoutError') throw err;
    }
  }
  // Docker Hub answers 401 insufficient_scope, not 404, for a repository that does not exist.
  if (failures.every((f) => f.code === ErrorCodes.upstreamAuthFailed)) throw notFound();
  if (invalid !== undefined && failures.every((f) => f.code === ErrorCodes.manifestInvalid)) throw invalid;
  const limited = failures.filter((f) => f.code === ErrorCodes.upstreamRateLimited || f.code === ErrorCodes.tooManyRequests);
  if (limited.length > 0) {
    const waits = limited.map((f) => f.retryAfterSeconds).filter((s): s is number => s !== undefined);
    throw new TooManyRequestsError(
      'upstream rate limit reached and no upstream could serve the object',
      waits.length ? Math.min(...waits) : undefined,
    );
  }
  throw new UpstreamUnavailableError('no upstream could serve the object', {
    detail: { upstreams: failures.map((f) => ({ id: f.upstreamId, code: f.code })) },
  });
}
