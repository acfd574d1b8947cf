import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { UpstreamUnavailableError } from './errors.ts';

/**
 * Hands the caller a body whose failures speak this package's language:
 * an upstream that stalls past the idle timeout or breaks the connection
 * mid-body errors the stream with `UpstreamUnavailableError` (cause kept);
 * a caller's abort errors it with the signal's reason, untouched.
 *
 * Backpressure is preserved (`pipe` pauses the source when the caller
 * stops reading, and undici's idle timer does not run while paused), and
 * destroying the returned stream destroys the upstream body.
 *
 * @param source undici's response body
 * @param where secret-free description of the upstream URL, for messages
 * @param signal the caller's signal, to tell its abort from an upstream failure
 */
export function guardBody(source: Readable, where: string, signal: AbortSignal | undefined): Readable {
  const guarded = new PassThrough();
  source.on('error', (err: unknown) => {
    if (signal?.aborted === true && err === signal.reason) {
      guarded.destroy(err as Error);
      return;
    }
    guarded.destroy(new UpstreamUnavailableError(`upstream ${where} body failed: ${describe(err)}`, { cause: err }));
  });
  guarded.on('close', () => {
    // The caller gave up (or the stream failed): release the upstream socket.
    if (!source.destroyed) source.destroy();
  });
  source.pipe(guarded);
  return guarded;
}

function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, name } = err as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'unknown error';
}
