import { randomBytes } from 'node:crypto';
import { type FileHandle, lstat, open, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { blobKey } from '../blob-key.ts';
import type { BlobRead, BlobStat, BlobStore, BlobWriter, ByteRange } from '../blob-store.ts';
import { BlobStoreError, BlobStoreUnavailableError } from '../errors.ts';
import { resolveRange } from '../resolve-range.ts';
import { VerifyingBlobWriter } from '../verifying-blob-writer.ts';
import { FsBlobRead } from './fs-blob-read.ts';
import { errorCode, FsBlobSink } from './fs-blob-sink.ts';

const HOUR_MS = 60 * 60 * 1000;

/** Options of {@link FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding `blobs/` and `tmp/`; created on the first write. */
  root: string;
  /** Temp files older than this many milliseconds are removed at start-up. Default 1 hour. */
  staleTempAgeMs?: number;
}

/**
 * A `BlobStore` on the local file system (embedded mode). Blobs live at
 * `<root>/blobs/<algorithm>/<2 hex>/<hex>`; writes go to `<root>/tmp/<random>`
 * and are fsynced and renamed into place on commit. Nothing outside `root`
 * is ever touched: paths are built only from validated digests.
 */
export class FsBlobStore implements BlobStore {
  /** Absolute path of the store's root directory. */
  readonly root: string;
  readonly #tmpDir: string;
  readonly #startup: Promise<void>;

  constructor(opts: FsBlobStoreOptions) {
    this.root = resolve(opts.root);
    this.#tmpDir = join(this.root, 'tmp');
    // Leftovers of writes a crash interrupted; an hour is far past any live
    // write's idle time. Best effort: a failure must not stop the store.
    this.#startup = this.removeStaleTempFiles(opts.staleTempAgeMs ?? HOUR_MS).then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Removes temp files last modified more than `olderThanMs` ago.
   * @returns how many were removed.
   * @throws BlobStoreUnavailableError when the temp directory cannot be read.
   */
  async removeStaleTempFiles(olderThanMs: number = HOUR_MS): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#tmpDir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return 0;
      throw new BlobStoreUnavailableError(`cannot list ${this.#tmpDir}`, err);
    }
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      const path = join(this.#tmpDir, name);
      try {
        const info = await lstat(path);
        if (info.isFile() && info.mtimeMs < cutoff) {
          await unlink(path);
          removed += 1;
        }
      } catch {
        // Raced with a commit's rename or another sweep: nothing to do.
      }
    }
    return removed;
  }

  /** Size of a stored blob, or `undefined`. @throws InvalidDigestError, BlobStoreUnavailableError */
  async stat(digest: string, signal?: AbortSignal): Promise<BlobStat | undefined> {
    const path = this.#path(digest);
    signal?.throwIfAborted();
    try {
      return { size: (await stat(path)).size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new BlobStoreUnavailableError(`cannot stat blob ${digest}`, err);
    }
  }

  /**
   * Streams a stored blob or a range of it, or `undefined`.
   * @throws InvalidDigestError, BlobRangeInvalidError, BlobStoreUnavailableError
   */
  async get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined> {
    const path = this.#path(digest);
    opts?.signal?.throwIfAborted();
    let handle: FileHandle;
    try {
      // Open first, then stat the handle: a concurrent delete cannot split the two.
      handle = await open(path, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new BlobStoreUnavailableError(`cannot open blob ${digest}`, err);
    }
    try {
      const { size } = await handle.stat();
      const range = opts?.range === undefined ? undefined : resolveRange(opts.range, size);
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      return new FsBlobRead(handle, start, size === 0 ? 0 : end - start + 1, opts?.signal);
    } catch (err) {
      await handle.close().catch(() => undefined);
      if (err instanceof BlobStoreError) throw err;
      throw new BlobStoreUnavailableError(`cannot read blob ${digest}`, err);
    }
  }

  /** Starts a verified write into a temp file. @throws InvalidDigestError, BlobStoreUnavailableError */
  async beginWrite(digest: string, opts?: { expectedSize?: number; signal?: AbortSignal }): Promise<BlobWriter> {
    const finalPath = this.#path(digest);
    opts?.signal?.throwIfAborted();
    const tmpPath = join(this.#tmpDir, randomBytes(16).toString('hex'));
    const sink = await FsBlobSink.create(tmpPath, finalPath);
    try {
      return new VerifyingBlobWriter({ digest, expectedSize: opts?.expectedSize, signal: opts?.signal, sink });
    } catch (err) {
      await sink.abort();
      throw err;
    }
  }

  /** Removes a blob; absent is fine. @throws InvalidDigestError, BlobStoreUnavailableError */
  async delete(digest: string): Promise<void> {
    const path = this.#path(digest);
    try {
      await unlink(path);
    } catch (err) {
      if (isNotFound(err)) return;
      throw new BlobStoreUnavailableError(`cannot delete blob ${digest}`, err);
    }
  }

  /** Waits for the start-up sweep; holds no other resources. */
  async close(): Promise<void> {
    await this.#startup;
  }

  // blobKey validates the digest, so the path is always inside root.
  #path(digest: string): string {
    return join(this.root, blobKey(digest));
  }
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
