import { constants, read } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { WrittenBytes } from '../blob-store.ts';
import { BlobStoreUnavailableError } from '../errors.ts';
import type { BlobSink } from '../verifying-blob-writer.ts';

/**
 * The file-system end of one blob write: bytes go to a temp file, which
 * commit fsyncs and renames onto the final path. rename(2) is atomic, so a
 * reader sees either no file or the whole verified file, never a prefix.
 */
export class FsBlobSink implements BlobSink {
  readonly #handle: FileHandle;
  readonly #tmpPath: string;
  readonly #finalPath: string;
  #closed = false;

  private constructor(handle: FileHandle, tmpPath: string, finalPath: string) {
    this.#handle = handle;
    this.#tmpPath = tmpPath;
    this.#finalPath = finalPath;
  }

  /**
   * Creates the temp file (exclusively: a name collision fails rather than
   * sharing a file) for a write that will end at `finalPath`.
   * @throws BlobStoreUnavailableError when the file cannot be created.
   */
  static async create(tmpPath: string, finalPath: string): Promise<FsBlobSink> {
    try {
      // Owner only: cached content is nobody else's business on the machine (files 0600, directories 0700).
      const handle = await inDirectory(tmpPath, () => open(tmpPath, 'wx', 0o600));
      return new FsBlobSink(handle, tmpPath, finalPath);
    } catch (err) {
      throw new BlobStoreUnavailableError(`cannot create temp file for blob write`, err);
    }
  }

  /**
   * Opens the temp file for reading on a handle of its own: it keeps reading
   * the same file after commit renames it (or removes it because the blob
   * already existed) and after an abort removes it.
   * @throws BlobStoreUnavailableError once the write is over, or when the file cannot be opened.
   */
  async openWrittenBytes(): Promise<WrittenBytes> {
    if (this.#closed) throw new BlobStoreUnavailableError('the blob write is over: its temp file cannot be opened');
    let handle: FileHandle;
    try {
      handle = await open(this.#tmpPath, 'r');
    } catch (err) {
      throw new BlobStoreUnavailableError('cannot open blob temp file for reading', err);
    }
    return {
      // fs.read on the descriptor, as a hit's reads are: FileHandle.read allocates a request and a
      // result object per call, and 50 clients reading a fill back make thousands of calls a second.
      read: (buffer, position) =>
        new Promise<number>((resolve, reject) =>
          read(handle.fd, buffer, 0, buffer.length, position, (err, bytesRead) =>
            err ? reject(new BlobStoreUnavailableError('cannot read blob temp file', err)) : resolve(bytesRead),
          ),
        ),
      close: () => handle.close(),
    };
  }

  /** Appends a chunk to the temp file. @throws BlobStoreUnavailableError (e.g. ENOSPC) */
  async write(chunk: Buffer): Promise<void> {
    try {
      let offset = 0;
      // write(2) may take fewer bytes than offered; loop until all are on disk.
      while (offset < chunk.length) {
        const { bytesWritten } = await this.#handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw new BlobStoreUnavailableError(`cannot write blob temp file`, err);
    }
  }

  /** Appends several chunks with one writev(2) each time. @throws BlobStoreUnavailableError (e.g. ENOSPC) */
  async writev(chunks: Buffer[]): Promise<void> {
    try {
      let pending = chunks;
      // writev(2) may take fewer bytes than offered; go on from where it stopped.
      while (pending.length > 0) {
        let { bytesWritten } = await this.#handle.writev(pending);
        if (bytesWritten === 0) throw new Error('writev wrote nothing');
        let first = 0;
        while (first < pending.length && bytesWritten >= (pending[first] as Buffer).length)
          bytesWritten -= (pending[first++] as Buffer).length;
        pending = pending.slice(first);
        if (bytesWritten > 0) pending[0] = (pending[0] as Buffer).subarray(bytesWritten);
      }
    } catch (err) {
      throw new BlobStoreUnavailableError(`cannot write blob temp file`, err);
    }
  }

  /**
   * Flushes the temp file to disk and renames it onto the final path. When
   * the blob already exists (a concurrent writer won), the rename replaces
   * it atomically with the same verified bytes; a reader of the old file
   * goes on reading it.
   * @throws BlobStoreUnavailableError
   */
  async commit(): Promise<void> {
    try {
      await this.#handle.sync();
      await this.#close();
      await inDirectory(this.#finalPath, () => rename(this.#tmpPath, this.#finalPath));
      // Persist the directory entry too, or a crash could forget the rename.
      await syncDirectory(dirname(this.#finalPath));
    } catch (err) {
      throw new BlobStoreUnavailableError(`cannot commit blob file ${this.#finalPath}`, err);
    }
  }

  /** Closes and removes the temp file; ignores what is already gone. */
  async abort(): Promise<void> {
    await this.#close().catch(() => undefined);
    await unlink(this.#tmpPath).catch(() => undefined);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

/**
 * `create`, which makes `path`: when it fails for a missing directory, the
 * directory is made and `create` tried once more. Directories are made once,
 * not checked on every write: a write's file-system calls are each a
 * thread-pool round trip, and a cold miss of a small blob is mostly those.
 */
async function inDirectory<T>(path: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return create();
}

// Best effort: some file systems refuse fsync on a directory (EINVAL, EISDIR).
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await handle.sync();
  } catch {
    // The rename itself succeeded; durability of the entry is all we lose.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The `code` of a Node system error (`ENOENT`, ...), if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
