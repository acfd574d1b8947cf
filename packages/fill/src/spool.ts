import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

// Large reads: every read is a thread-pool trip; 256 KiB keeps 50 readers under 13 MiB of buffers.
const READ_CHUNK = 256 * 1024;

/**
 * A fill's bytes on local disk, written at upstream speed and read by any
 * number of clients, each at its own pace and each from byte 0. The file is
 * unlinked as soon as it is opened (it lives while the handle does), so a
 * crash leaves nothing behind. The last chunk written stays unreadable until
 * the fill is verified: a reader never sees a clean end of wrong bytes.
 */
export class Spool {
  readonly #file: FileHandle;
  readonly #events = new EventEmitter();
  #written = 0;
  #lastChunk = 0;
  #state: 'filling' | 'verified' | 'failed' = 'filling';
  #error: Error | undefined;
  #refs = 1;

  private constructor(file: FileHandle) {
    this.#file = file;
    this.#events.setMaxListeners(0);
  }

  /** Opens an anonymous spool file in `dir`. The creator holds the first reference. */
  static async create(dir: string): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `spool-${randomUUID()}`);
    const file = await open(path, 'w+', 0o600);
    await unlink(path);
    return new Spool(file);
  }

  /** Bytes written so far. */
  get written(): number {
    return this.#written;
  }

  /** Appends the next chunk; resolves once it is on disk (in the page cache). */
  async append(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.#file.write(chunk, offset, chunk.length - offset, this.#written + offset);
      offset += bytesWritten;
    }
    this.#written += chunk.length;
    this.#lastChunk = chunk.length;
    this.#events.emit('change');
  }

  /** Every byte is in and verified: readers may read to the end. */
  verified(): void {
    this.#state = 'verified';
    this.#events.emit('change');
  }

  /** The fill failed: readers error out instead of ending cleanly. */
  failed(err: Error): void {
    if (this.#state !== 'filling') return;
    this.#state = 'failed';
    this.#error = err;
    this.#events.emit('change');
  }

  /** Bytes a reader may have now. */
  get #readable(): number {
    return this.#state === 'verified' ? this.#written : Math.max(0, this.#written - this.#lastChunk);
  }

  /**
   * A stream of the object (or of bytes `start`..`end`, inclusive) following
   * the fill as it grows. It ends only once the whole fill is verified, even
   * for a range that was complete earlier. Takes a reference.
   */
  reader(range?: { start: number; end: number }): Readable {
    this.#refs += 1;
    let position = range?.start ?? 0;
    const limit = range === undefined ? Infinity : range.end + 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      void this.release();
    };
    const stream: Readable = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => {
        void this.#readNext(position, limit).then(
          (chunk) => {
            if (chunk === null) {
              stream.push(null);
              return;
            }
            position += chunk.length;
            stream.push(chunk);
          },
          (err: Error) => stream.destroy(err),
        );
      },
      destroy(err, callback) {
        release();
        callback(err);
      },
    });
    stream.once('end', release);
    return stream;
  }

  /** Waits until there is something to read past `position` (below `limit`), then reads it; null at the verified end. */
  async #readNext(position: number, limit: number): Promise<Buffer | null> {
    for (;;) {
      if (this.#state === 'failed') throw this.#error ?? new Error('fill failed');
      const available = Math.min(this.#readable, limit) - position;
      if (available > 0) {
        const buffer = Buffer.allocUnsafe(Math.min(available, READ_CHUNK));
        const { bytesRead } = await this.#file.read(buffer, 0, buffer.length, position);
        return buffer.subarray(0, bytesRead);
      }
      if (this.#state === 'verified') return null;
      await new Promise<void>((resolve) => this.#events.once('change', resolve));
    }
  }

  /** Drops a reference; the file closes when the fill and every reader are done with it. */
  async release(): Promise<void> {
    this.#refs -= 1;
    if (this.#refs === 0) await this.#file.close();
  }
}
