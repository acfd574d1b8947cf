import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { WrittenBytes } from '@vreg/blob-store';

/**
 * An anonymous local file holding a fill's bytes, for a store that keeps
 * none locally (S3, the memory store): the one local copy a spool's slow
 * readers read back. Unlinked as soon as it is opened (it lives while the
 * handle does), so a crash leaves nothing behind.
 */
export class SpoolFile implements WrittenBytes {
  readonly #file: FileHandle;
  #length = 0;

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  /** Creates the file in `dir`. */
  static async create(dir: string): Promise<SpoolFile> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `spool-${randomUUID()}`);
    const file = await open(path, 'w+', 0o600);
    await unlink(path).catch(async (err: unknown) => {
      await file.close();
      throw err;
    });
    return new SpoolFile(file);
  }

  /** Appends `chunk`; resolves once it is in the file (the page cache). Calls must not overlap. */
  async append(chunk: Buffer): Promise<void> {
    let offset = 0;
    // write(2) may take fewer bytes than offered.
    while (offset < chunk.length) {
      const { bytesWritten } = await this.#file.write(chunk, offset, chunk.length - offset, this.#length + offset);
      offset += bytesWritten;
    }
    this.#length += chunk.length;
  }

  async read(buffer: Buffer, position: number): Promise<number> {
    return (await this.#file.read(buffer, 0, buffer.length, position)).bytesRead;
  }

  async close(): Promise<void> {
    await this.#file.close();
  }
}
