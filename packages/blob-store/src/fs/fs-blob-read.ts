import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { BlobStoreUnavailableError } from '../errors.ts';
import { OnceConsumedRead } from '../once-consumed-read.ts';
import { writeChunk } from '../write-chunk.ts';
import { blobReadBuffers, type ReadBufferPool } from './read-buffer-pool.ts';

/**
 * An open read of a stored file, `[start, end]` inclusive. Consumed once,
 * either as the `body` stream or by `writeTo` (pooled buffers, the hit
 * path); the file handle is closed when either finishes or fails.
 */
export class FsBlobRead extends OnceConsumedRead {
  readonly size: number;
  readonly #handle: FileHandle;
  readonly #start: number;
  readonly #pool: ReadBufferPool;

  constructor(handle: FileHandle, start: number, size: number, signal?: AbortSignal, pool: ReadBufferPool = blobReadBuffers) {
    super(signal);
    this.#handle = handle;
    this.#start = start;
    this.size = size;
    this.#pool = pool;
  }

  protected openBody(): Readable {
    if (this.size === 0) {
      void this.#handle.close().catch(() => undefined);
      return Readable.from([], { objectMode: false });
    }
    return this.#handle.createReadStream({
      start: this.#start,
      end: this.#start + this.size - 1,
      autoClose: true,
      highWaterMark: this.#pool.chunkBytes,
    });
  }

  protected async write(destination: Writable, signals: AbortSignal[], onWritten: ((bytes: number) => void) | undefined): Promise<void> {
    try {
      await pump(this.#handle.fd, this.#start, this.size, destination, this.#pool, signals, onWritten);
    } finally {
      await this.#handle.close().catch(() => undefined);
    }
  }
}

/** A pooled buffer and how many of its bytes a read filled. */
interface Chunk {
  buffer: Buffer;
  length: number;
}

/**
 * Reads `size` bytes from `start` into pooled chunks and writes each to
 * `destination`, reading the next one while the previous is written when
 * the pool has a spare buffer (few streams: a read ahead keeps one stream
 * fast; many streams keep each other's sockets busy without it). A chunk
 * goes back to the pool when the write's callback says the destination (the
 * socket, for a response) took it; a chunk whose write was cut short by a
 * closing destination is left to the GC, since the socket may still hold it.
 */
async function pump(
  fd: number,
  start: number,
  size: number,
  destination: Writable,
  pool: ReadBufferPool,
  signals: AbortSignal[],
  onWritten: ((bytes: number) => void) | undefined,
): Promise<void> {
  const end = start + size;
  const readAt = (position: number, buffer: Buffer): Promise<Chunk> => {
    const reading = readChunk(fd, pool, buffer, position, Math.min(pool.chunkBytes, end - position));
    // A read ahead can fail while the previous chunk is still being written: handled here, so the
    // process sees no unhandled rejection; its error is thrown where it is awaited.
    reading.catch(() => undefined);
    return reading;
  };
  let position = start;
  let next = position < end ? readAt(position, pool.take()) : undefined;
  try {
    while (next) {
      const chunk = await next;
      next = undefined;
      position += chunk.length;
      if (signals.some((s) => s.aborted)) {
        pool.give(chunk.buffer);
        for (const s of signals) s.throwIfAborted();
      }
      const spare = position < end ? pool.takeSpare() : undefined;
      next = spare ? readAt(position, spare) : undefined;
      try {
        await writeChunk(destination, chunk.length === chunk.buffer.length ? chunk.buffer : chunk.buffer.subarray(0, chunk.length));
      } catch (err) {
        pool.forget();
        throw err;
      }
      onWritten?.(chunk.length);
      if (next || position >= end) pool.give(chunk.buffer);
      else next = readAt(position, chunk.buffer); // no spare: the buffer just written is read into next
    }
  } finally {
    // The caller closes the file next: a read still running must finish first (its buffer is pooled, unsent).
    if (next)
      await next.then(
        (chunk) => pool.give(chunk.buffer),
        () => undefined,
      );
  }
}

/** Reads exactly `length` bytes at `position` into `buffer` (a short read means the file shrank under us: an error, never a short blob). */
function readChunk(fd: number, pool: ReadBufferPool, buffer: Buffer, position: number, length: number): Promise<Chunk> {
  return new Promise((resolve, reject) => {
    let filled = 0;
    const more = (): void => {
      read(fd, buffer, filled, length - filled, position + filled, (err, got) => {
        if (err) {
          pool.give(buffer);
          return reject(new BlobStoreUnavailableError('reading a stored blob failed', err));
        }
        if (got === 0) {
          pool.give(buffer);
          return reject(new BlobStoreUnavailableError(`a stored blob ended at byte ${position + filled}, before its recorded size`));
        }
        filled += got;
        if (filled < length) return more();
        resolve({ buffer, length });
      });
    };
    more();
  });
}
