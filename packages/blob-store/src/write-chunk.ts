import type { Writable } from 'node:stream';

/**
 * Resolves when `destination` took the chunk, or every one of `chunks`;
 * rejects when it errors or closes first. Several chunks go out corked, as
 * one write (a socket's writev): a client then reads them at once.
 */
export function writeChunk(destination: Writable, chunk: Buffer | readonly Buffer[]): Promise<void> {
  if (destination.destroyed) return Promise.reject(prematureClose());
  const chunks = Buffer.isBuffer(chunk) ? [chunk] : chunk;
  if (chunks.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // An http.ServerResponse whose socket is gone drops the write without calling back: 'close' says so.
    const onClose = (): void => reject(prematureClose());
    destination.once('close', onClose);
    const corked = chunks.length > 1;
    if (corked) destination.cork();
    chunks.forEach((c, i) => {
      // The last write's callback comes once every write before it was taken too.
      if (i < chunks.length - 1) destination.write(c);
      else
        destination.write(c, (err) => {
          destination.removeListener('close', onClose);
          if (err) reject(err);
          else resolve();
        });
    });
    if (corked) destination.uncork();
  });
}

/** The error of a write cut short by a destination that closed (a client that left), as `stream.pipeline` names it. */
export function prematureClose(): Error {
  return Object.assign(new Error('the destination closed before the blob was written'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
