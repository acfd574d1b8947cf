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
    const last = chunks.length - 1;
    if (last > 0) destination.cork();
    for (let i = 0; i < last; i++) destination.write(chunks[i]);
    // The last write's callback comes once every write before it was taken too.
    destination.write(chunks[last], (err) => {
      destination.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    });
    if (last > 0) destination.uncork();
  });
}

/** The error of a write cut short by a destination that closed (a client that left), as `stream.pipeline` names it. */
export function prematureClose(): Error {
  return Object.assign(new Error('the destination closed before the blob was written'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
