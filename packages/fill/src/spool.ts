import { Readable, type Writable } from 'node:stream';
import {
  type BlobWriteToOptions,
  blobReadBuffers,
  prematureClose,
  type ReadBufferPool,
  type WrittenBytes,
  writeChunk,
} from '@vreg/blob-store';
import { type Slab, SpoolSlabs } from './spool-slabs.ts';

// Memory per fill: the newest 4 MiB stay in memory, copied into pooled slabs (spool-slabs.ts) and
// shared by every reader that keeps up (their pieces are references to the slabs); a reader further behind reads 256 KiB at a time from the
// file the bytes were written to once, and reads no further ahead than its client takes (a stream
// high-water mark of 0). Bound: 4 MiB + the writes queued for disk (1 MiB, the upstream's own chunks) + about
// 2 x 256 KiB per slow reader (one read, one in its response's buffer): 50 slow readers, 30 MiB.
// A reader written by `writeTo` (the gateway's send path) reads into the stored-blob read pool's
// buffers and hands each back once its response took it: a fresh 256 KiB buffer per read made 50
// slow readers churn ~100 MB of buffers waiting for the GC, and malloc kept the RSS after them.
const WINDOW_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;

/**
 * A reader of the spool: a stream, or written straight to a destination
 * (`writeTo`, as a stored blob's read is). Consume it one way only.
 */
export type SpoolReader = Readable & {
  /**
   * Writes the bytes to `destination` without ending it, with reads from
   * the file into pooled buffers that go back once `destination` took them.
   * Resolves once the verified fill's last byte was taken; rejects when the
   * fill fails, when `destination` errors or closes first, or on `signal`.
   * The reader is released in every case.
   */
  writeTo(destination: Writable, options?: BlobWriteToOptions): Promise<void>;
  /**
   * Resolves once the reader has a byte to give, or the verified fill's
   * end; rejects with the fill's error when it failed first. Takes nothing:
   * the gateway answers with a status line only once there is something
   * to follow it, and with an OCI error when the fill failed before.
   */
  ready(): Promise<void>;
};

/**
 * A fill's bytes as they arrive, read by any number of clients, each at its
 * own pace and each from byte 0 (or its range's start): the fill never waits
 * for a reader. The newest chunks are kept in memory, so readers that keep
 * up are served from there; older bytes are read back from the local file
 * the fill writes them to anyway (the store's temp file, or a spool file),
 * so nothing is written to disk twice. The last chunk stays unreadable
 * until the fill is verified: a reader never sees a clean end of wrong bytes.
 */
export class Spool {
  readonly #file: WrittenBytes;
  /** The newest chunks, oldest first; `#starts[i]` is the offset of `#chunks[i]`, `#slabOf[i]` the slab it is in. */
  #chunks: Buffer[] = [];
  #starts: number[] = [];
  #slabOf: Slab[] = [];
  readonly #slabs: SpoolSlabs;
  #windowBytes = 0;
  #written = 0;
  #onDisk = 0;
  #lastChunk = 0;
  #state: 'filling' | 'verified' | 'failed' = 'filling';
  #error: Error | undefined;
  #waiting = new Set<() => void>();
  #refs = 1;

  /** A spool over `file`, the local file the fill's bytes are written to; it is closed with the spool. The creator holds the first reference. */
  readonly #readBuffers: ReadBufferPool;

  constructor(file: WrittenBytes, readBuffers: ReadBufferPool = blobReadBuffers, slabs: SpoolSlabs = new SpoolSlabs()) {
    this.#file = file;
    this.#readBuffers = readBuffers;
    this.#slabs = slabs;
  }

  /** Bytes taken so far. */
  get written(): number {
    return this.#written;
  }

  /** Bytes of chunks held in memory now. */
  get bufferedBytes(): number {
    return this.#windowBytes;
  }

  /** Takes the next chunk: readers may have it at once, from memory. The spool keeps a copy, not `chunk`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.#state !== 'filling') return;
    for (const piece of this.#slabs.copy(chunk)) {
      this.#chunks.push(piece.bytes);
      this.#starts.push(this.#written);
      this.#slabOf.push(piece.slab);
      this.#windowBytes += piece.bytes.length;
      this.#written += piece.bytes.length;
    }
    this.#lastChunk = chunk.length;
    this.#evict();
    this.#wake();
  }

  /** The first `bytes` bytes are in the file: chunks among them may leave memory. */
  persisted(bytes: number): void {
    if (bytes <= this.#onDisk) return;
    this.#onDisk = bytes;
    this.#evict();
  }

  /** Every byte is in and verified: readers may read to the end. */
  verified(): void {
    if (this.#state !== 'filling') return;
    this.#state = 'verified';
    this.#slabs.close();
    this.#wake();
  }

  /** The fill failed: readers error out instead of ending cleanly. */
  failed(err: Error): void {
    if (this.#state !== 'filling') return;
    this.#state = 'failed';
    this.#error = err;
    this.#dropWindow();
    this.#wake();
  }

  /**
   * A stream of the object (or of bytes `start`..`end`, inclusive) following
   * the fill as it grows. It ends only once the whole fill is verified, even
   * for a range that was complete earlier. Takes a reference.
   */
  reader(range?: { start: number; end: number }): SpoolReader {
    this.#refs += 1;
    let position = range?.start ?? 0;
    const limit = range === undefined ? Infinity : range.end + 1;
    let consumed: 'read' | 'writeTo' | undefined;
    let feeding = false;
    let wanted = false;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      void this.release();
    };
    // One feed at a time; a read() that comes while one runs (a push can trigger it) is run after it.
    const feed = (): void => {
      feeding = true;
      wanted = false;
      this.#feed(stream, position, limit).then(
        (next) => {
          position = next;
          feeding = false;
          if (wanted) feed();
        },
        (err: Error) => {
          feeding = false;
          stream.destroy(err);
        },
      );
    };
    const stream: Readable = new Readable({
      // No read-ahead: what the client does not take yet stays in the window or the file.
      highWaterMark: 0,
      read: () => {
        consumed ??= 'read';
        if (feeding) wanted = true;
        else feed();
      },
      destroy(err, callback) {
        release();
        callback(err);
      },
    });
    stream.once('end', release);
    const writeTo = async (destination: Writable, options: BlobWriteToOptions = {}): Promise<void> => {
      if (consumed !== undefined) throw new Error(`a spool reader is consumed once; writeTo came after ${consumed}`);
      consumed = 'writeTo';
      try {
        await this.#writeTo(destination, position, limit, options);
      } finally {
        // Never read: destroying it releases the reference.
        stream.destroy();
      }
    };
    const ready = async (): Promise<void> => {
      for (;;) {
        if (this.#state === 'failed') throw this.#error ?? new Error('fill failed');
        if (this.#state === 'verified' || position < Math.min(this.#readable, limit)) return;
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
      }
    };
    return Object.assign(stream, { writeTo, ready });
  }

  /** Drops a reference; the file closes when the fill and every reader are done with it. */
  async release(): Promise<void> {
    this.#refs -= 1;
    if (this.#refs !== 0) return;
    this.#dropWindow();
    await this.#file.close();
  }

  /**
   * Pushes what `stream` may have from `position` on: chunks from memory
   * until it wants no more, or one read from the file; waits first when
   * there is nothing yet. Resolves the new position.
   */
  async #feed(stream: Readable, position: number, limit: number): Promise<number> {
    for (;;) {
      if (stream.destroyed) return position;
      if (this.#state === 'failed') throw this.#error ?? new Error('fill failed');
      const end = Math.min(this.#readable, limit);
      if (position >= end) {
        // A range that is all in ends only with the verified fill too: its bytes could still prove wrong.
        if (this.#state === 'verified') {
          stream.push(null);
          return position;
        }
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
        continue;
      }
      const windowStart = this.#starts[0] ?? this.#written;
      if (position < windowStart) {
        // Below the window every byte is in the file.
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, windowStart - position, end - position));
        const read = await this.#file.read(buffer, position);
        if (read === 0) throw new Error(`spool file ends at ${position} bytes, ${end} expected`);
        stream.push(buffer.subarray(0, read));
        return position + read;
      }
      let i = this.#chunkAt(position);
      for (; i < this.#chunks.length && position < end; i++) {
        const chunk = this.#chunks[i] as Buffer;
        const start = this.#starts[i] as number;
        const piece = chunk.subarray(position - start, Math.min(chunk.length, end - start));
        // A stream's consumer may keep the piece as long as it likes: its slab goes to the GC, not the pool.
        (this.#slabOf[i] as Slab).lost = true;
        position += piece.length;
        if (!stream.push(piece)) return position;
      }
      return position;
    }
  }

  /**
   * `writeTo`'s loop: from memory, the readable window pieces from the
   * position on, up to 256 KiB, as one write (references, no copy: an
   * upstream chunk that two slabs hold goes out whole, so a client that
   * keeps up reads once per chunk, not twice); below the window, 256 KiB
   * reads into a pooled buffer, each written and taken before the next
   * read, so a slow client holds one.
   */
  async #writeTo(destination: Writable, start: number, limit: number, options: BlobWriteToOptions): Promise<void> {
    let position = start;
    for (;;) {
      if (destination.destroyed) throw prematureClose();
      options.signal?.throwIfAborted();
      if (this.#state === 'failed') throw this.#error ?? new Error('fill failed');
      const end = Math.min(this.#readable, limit);
      if (position >= end) {
        // A range that is all in ends only with the verified fill too: its bytes could still prove wrong.
        if (this.#state === 'verified') return;
        await this.#more(destination);
        continue;
      }
      const windowStart = this.#starts[0] ?? this.#written;
      let pieces: Buffer[];
      let written: number;
      let pooled: Buffer | undefined;
      const slabs: Slab[] = [];
      if (position < windowStart) {
        // Below the window every byte is in the file.
        pooled = this.#readBuffers.take();
        const read = await this.#file
          .read(pooled.subarray(0, Math.min(pooled.length, windowStart - position, end - position)), position)
          .catch((err: unknown) => {
            this.#readBuffers.give(pooled as Buffer);
            throw err;
          });
        if (read === 0) {
          this.#readBuffers.give(pooled);
          throw new Error(`spool file ends at ${position} bytes, ${end} expected`);
        }
        pieces = [pooled.subarray(0, read)];
        written = read;
      } else {
        pieces = [];
        let at = position;
        for (let i = this.#chunkAt(position); i < this.#chunks.length && at < end && at - position < READ_CHUNK; i++) {
          const chunk = this.#chunks[i] as Buffer;
          const chunkStart = this.#starts[i] as number;
          const piece = chunk.subarray(at - chunkStart, Math.min(chunk.length, end - chunkStart));
          pieces.push(piece);
          at += piece.length;
          // Its slab stays out of the pool until the destination took the piece.
          const slab = this.#slabOf[i] as Slab;
          slab.pins += 1;
          slabs.push(slab);
        }
        written = at - position;
      }
      try {
        await writeChunk(destination, pieces);
      } catch (err) {
        // The socket may still hold the bytes: the buffer is left to the GC.
        if (pooled) this.#readBuffers.forget();
        for (const slab of slabs) slab.lost = true;
        throw err;
      } finally {
        for (const slab of slabs) {
          slab.pins -= 1;
          this.#slabs.settle(slab);
        }
      }
      if (pooled) this.#readBuffers.give(pooled);
      position += written;
      options.onWritten?.(written);
    }
  }

  /** Resolves at the next push, verification or failure, or when `destination` closes. */
  #more(destination: Writable): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        destination.removeListener('close', done);
        this.#waiting.delete(done);
        resolve();
      };
      destination.once('close', done);
      this.#waiting.add(done);
    });
  }

  /** Bytes a reader may have now. */
  get #readable(): number {
    return this.#state === 'verified' ? this.#written : Math.max(0, this.#written - this.#lastChunk);
  }

  /** Index of the chunk in memory holding `position` (which is inside the window). */
  #chunkAt(position: number): number {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#starts[mid] as number) <= position) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Drops the oldest chunks past the window, once they are in the file. */
  #evict(): void {
    let drop = 0;
    let bytes = this.#windowBytes;
    while (drop < this.#chunks.length) {
      const size = (this.#chunks[drop] as Buffer).length;
      const end = (this.#starts[drop] as number) + size;
      if (bytes - size < WINDOW_BYTES || end > this.#onDisk) break;
      bytes -= size;
      drop += 1;
    }
    if (drop === 0) return;
    this.#chunks.splice(0, drop);
    this.#starts.splice(0, drop);
    this.#leave(this.#slabOf.splice(0, drop));
    this.#windowBytes = bytes;
  }

  /** Empties the window (a failed fill, or the last reference gone). */
  #dropWindow(): void {
    const slabs = this.#slabOf;
    this.#chunks = [];
    this.#starts = [];
    this.#slabOf = [];
    this.#windowBytes = 0;
    this.#leave(slabs);
    this.#slabs.close();
  }

  /** Pieces of these slabs left the window: each slab goes back once nothing else holds it. */
  #leave(slabs: Slab[]): void {
    for (const slab of slabs) slab.inWindow -= 1;
    for (const slab of slabs) this.#slabs.settle(slab);
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = new Set();
    for (const resolve of waiting) resolve();
  }
}
