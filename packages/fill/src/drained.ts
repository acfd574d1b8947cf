import type { Writable } from 'node:stream';

/**
 * Resolves once `stream` can take more: at once when it needs no drain (it
 * may have drained while the caller waited on something else), else on its
 * 'drain'. Rejects when it errors or closes first (an aborted write), or
 * when `signal` fires.
 */
export function drained(stream: Writable, signal?: AbortSignal): Promise<void> {
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.destroyed) return Promise.reject(new Error('the write was aborted'));
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onError = (err: Error): void => settle(err);
    const onClose = (): void => settle(stream.errored ?? new Error('the write was aborted'));
    const onAbort = (): void => settle(signal?.reason as Error);
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
