import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { parseDigest } from '../blob-key.ts';
import type { BlobRead, BlobStat, BlobStore, BlobWriter, ByteRange } from '../blob-store.ts';
import { BlobDigestMismatchError, BlobStoreUnavailableError } from '../errors.ts';
import { resolveRange } from '../resolve-range.ts';
import { MemoryBlobRead } from './memory-blob-read.ts';

export interface HotBlobTierOptions {
  /** Bytes of blobs held in memory at most, least recently read first out. */
  budgetBytes: number;
  /** The largest blob held; bigger ones are always read from the store. */
  maxBlobBytes: number;
  /** Reads of a blob, while it is among the recently read, before a copy is loaded: at 2 a blob read once is never loaded. */
  admitAfterReads?: number;
  /** Called when loading a copy failed (the store's bytes did not hash to the digest, or could not be read); nothing was kept. */
  onLoadFailed?: (digest: string, err: unknown) => void;
}

/** Digests whose reads are counted; an older one starts again from 0. */
const COUNTED_DIGESTS = 8192;
/** Copies loading at once: each holds a buffer of its blob's size before it counts against the budget. */
const MAX_LOADS = 2;

/**
 * A memory tier in front of a blob store, for the blobs read most. A blob
 * read `admitAfterReads` times gets a copy in memory, loaded in the
 * background and hashed against its digest before it is used; later reads
 * of it are answered from that copy, without reading the store. The store
 * stays the truth: every read of a copy first asks the store whether it
 * still has the blob (one `stat`), so a blob deleted there (garbage
 * collection, another process) is never served from here.
 *
 * Serving a copy skips the file read (a copy from the page cache into a
 * buffer, and a thread-pool trip per chunk) or the S3 GetObject: what is
 * left per byte is the socket's own copy.
 */
export class HotBlobTier implements BlobStore {
  readonly presignGet?: BlobStore['presignGet'];
  readonly probeWritable?: BlobStore['probeWritable'];
  readonly #store: BlobStore;
  readonly #held: LRUCache<string, Buffer>;
  readonly #reads = new LRUCache<string, number>({ max: COUNTED_DIGESTS });
  readonly #loading = new Map<string, Promise<void>>();
  readonly #maxBlobBytes: number;
  readonly #admitAfterReads: number;
  readonly #onLoadFailed: (digest: string, err: unknown) => void;

  constructor(store: BlobStore, options: HotBlobTierOptions) {
    if (!(options.budgetBytes > 0 && options.maxBlobBytes > 0))
      throw new RangeError('a hot blob tier needs a positive budget and blob size');
    this.#store = store;
    this.#maxBlobBytes = Math.min(options.maxBlobBytes, options.budgetBytes);
    this.#admitAfterReads = Math.max(1, options.admitAfterReads ?? 2);
    this.#onLoadFailed = options.onLoadFailed ?? (() => undefined);
    // lru-cache wants positive sizes: an empty blob counts as 1 byte.
    this.#held = new LRUCache<string, Buffer>({
      maxSize: options.budgetBytes,
      maxEntrySize: this.#maxBlobBytes,
      sizeCalculation: (bytes) => Math.max(1, bytes.length),
    });
    const { presignGet, probeWritable } = store;
    if (presignGet) this.presignGet = presignGet.bind(store);
    if (probeWritable) this.probeWritable = probeWritable.bind(store);
  }

  /** Bytes of the copies held now. */
  get heldBytes(): number {
    return this.#held.calculatedSize;
  }

  /** The digests held now, most recently read first. */
  heldDigests(): string[] {
    return [...this.#held.keys()];
  }

  /** Resolves once every load started so far has ended (kept or given up). */
  async settled(): Promise<void> {
    await Promise.all(this.#loading.values());
  }

  stat(digest: string, signal?: AbortSignal): Promise<BlobStat | undefined> {
    return this.#store.stat(digest, signal);
  }

  async get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined> {
    // No digest check of its own: only valid digests are ever held, and the store checks every other one.
    const held = this.#held.get(digest);
    if (held) {
      const stored = await this.#store.stat(digest, opts?.signal);
      if (stored?.size === held.length) {
        const range = opts?.range === undefined ? undefined : resolveRange(opts.range, held.length);
        return new MemoryBlobRead(range ? held.subarray(range.start, range.end + 1) : held, opts?.signal);
      }
      this.#held.delete(digest);
      if (!stored) return undefined;
    }
    const read = await this.#store.get(digest, opts);
    if (read) this.#counted(digest, opts?.range === undefined ? read.size : undefined);
    return read;
  }

  beginWrite(digest: string, opts?: { expectedSize?: number; signal?: AbortSignal }): Promise<BlobWriter> {
    return this.#store.beginWrite(digest, opts);
  }

  async delete(digest: string): Promise<void> {
    this.#held.delete(digest);
    this.#reads.delete(digest);
    await this.#store.delete(digest);
  }

  async close(): Promise<void> {
    this.#held.clear();
    this.#reads.clear();
    await this.#store.close?.();
  }

  /** Counts a read from the store; the read that reaches the threshold starts loading a copy. */
  #counted(digest: string, size: number | undefined): void {
    if (size !== undefined && size > this.#maxBlobBytes) return;
    if (this.#loading.has(digest) || this.#loading.size >= MAX_LOADS) return;
    const reads = (this.#reads.get(digest) ?? 0) + 1;
    if (reads < this.#admitAfterReads) {
      this.#reads.set(digest, reads);
      return;
    }
    this.#reads.delete(digest);
    const loading = this.#load(digest)
      .catch((err: unknown) => this.#onLoadFailed(digest, err))
      .finally(() => this.#loading.delete(digest));
    this.#loading.set(digest, loading);
  }

  /** Reads the whole blob into one buffer, hashing it as it comes; kept only when it hashes to the digest. */
  async #load(digest: string): Promise<void> {
    const { algorithm, hex } = parseDigest(digest);
    const read = await this.#store.get(digest);
    if (!read) return;
    if (read.size > this.#maxBlobBytes) {
      read.body.destroy();
      return;
    }
    const bytes = Buffer.allocUnsafe(read.size);
    const hash = createHash(algorithm);
    let filled = 0;
    for await (const chunk of read.body as AsyncIterable<Buffer>) {
      if (filled + chunk.length > bytes.length)
        throw new BlobStoreUnavailableError(`stored blob ${digest} is longer than its ${bytes.length} bytes`);
      chunk.copy(bytes, filled);
      hash.update(chunk);
      filled += chunk.length;
    }
    if (filled !== bytes.length) throw new BlobStoreUnavailableError(`stored blob ${digest} ended at byte ${filled} of ${bytes.length}`);
    const actual = hash.digest('hex');
    if (actual !== hex) {
      throw new BlobDigestMismatchError({
        expectedDigest: digest,
        actualDigest: `${algorithm}:${actual}`,
        expectedSize: read.size,
        actualSize: filled,
      });
    }
    this.#held.set(digest, bytes);
  }
}
