import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { WrittenBytes } from '@vreg/blob-store';

// Chunks queue up to 1 MiB while a write is in flight and go down in one writev (one thread-pool trip).
const WRITE_QUEUE_BYTES = 1024 * 1024;

/**
 * An anonymous local file holding a fill's bytes, for a store that keeps
 * none locally (S3, the memory store): the one local copy a spool's slow
 * readers read back. Unlinked as soon as it is opened (it lives while the
 * handle does), so a crash leaves nothing behind.
 */
export class SpoolFile implements WrittenBytes {
  /** Appends the bytes written to it; a write's callback fires once its chunk is in the file (the page cache). */
  readonly stream: Writable;
  readonly #file: FileHandle;
  #length = 0;

  private constructor(file: FileHandle) {
    this.#file = file;
    this.stream = new Writable({
      highWaterMark: WRITE_QUEUE_BYTES,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#append([chunk]).then(() => callback(), callback);
      },
      writev: (chunks, callback) => {
        this.#append(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback);
      },
    });
    // A failed write fails the fill through the writes that follow; never an uncaught error.
    this.stream.on('error', () => undefined);
  }

  /** Creates the file in `dir`. */
  static async create(dir: string): Promise<SpoolFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `spool-${randomUUID()}`);
    const file = await open(path, 'w+', 0o600);
    await unlink(path).catch(async (err: unknown) => {
      await file.close();
      throw err;
    });
    return new SpoolFile(file);
  }

  async read(buffer: Buffer, position: number): Promise<number> {
    return (await this.#file.read(buffer, 0, buffer.length, position)).bytesRead;
  }

  /** Stops writing and closes the file. */
  async close(): Promise<void> {
    this.stream.destroy();
    await this.#file.close();
  }

  async #append(chunks: Buffer[]): Promise<void> {
    let pending = chunks;
    // writev(2) may take fewer bytes than offered; go on from where it stopped.
    while (pending.length > 0) {
      let { bytesWritten } = await this.#file.writev(pending, this.#length);
      if (bytesWritten === 0) throw new Error('writev wrote nothing to the spool file');
      this.#length += bytesWritten;
      let first = 0;
      while (first < pending.length && bytesWritten >= (pending[first] as Buffer).length)
        bytesWritten -= (pending[first++] as Buffer).length;
      pending = pending.slice(first);
      if (bytesWritten > 0) pending[0] = (pending[0] as Buffer).subarray(bytesWritten);
    }
  }
}
