import type { Writable } from 'node:stream';

/** Resolves when `destination` took the chunk; rejects when it errors or closes first. */
export function writeChunk(destination: Writable, chunk: Buffer): Promise<void> {
  if (destination.destroyed) return Promise.reject(prematureClose());
  return new Promise((resolve, reject) => {
    // An http.ServerResponse whose socket is gone drops the write without calling back: 'close' says so.
    const onClose = (): void => reject(prematureClose());
    destination.once('close', onClose);
    destination.write(chunk, (err) => {
      destination.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}

/** The error of a write cut short by a destination that closed (a client that left), as `stream.pipeline` names it. */
export function prematureClose(): Error {
  return Object.assign(new Error('the destination closed before the blob was written'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
