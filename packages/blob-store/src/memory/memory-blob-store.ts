import { Readable } from 'node:stream';
import { parseDigest } from '../blob-key.ts';
import type { BlobRead, BlobStat, BlobStore, BlobWriter, ByteRange } from '../blob-store.ts';
import { resolveRange } from '../resolve-range.ts';
import { type BlobSink, VerifyingBlobWriter } from '../verifying-blob-writer.ts';

// A stored blob: the chunks as written (never concatenated, so a big blob
// is held once, not twice) and their total size.
interface StoredBlob {
  chunks: readonly Buffer[];
  size: number;
}

/**
 * A `BlobStore` in process memory, for unit tests of the gateway and the
 * fetcher. Behaves like the real adapters (verification, ranges, errors)
 * but holds every committed blob in memory; not for production.
 */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, StoredBlob>();

  /** Number of blobs stored; handy in assertions. */
  get size(): number {
    return this.#blobs.size;
  }

  /** The digests of all stored blobs, in commit order. */
  digests(): string[] {
    return [...this.#blobs.keys()];
  }

  /** Size of a stored blob, or `undefined`. @throws InvalidDigestError */
  async stat(digest: string, signal?: AbortSignal): Promise<BlobStat | undefined> {
    parseDigest(digest);
    signal?.throwIfAborted();
    const blob = this.#blobs.get(digest);
    return blob === undefined ? undefined : { size: blob.size };
  }

  /** Streams a stored blob or range of it, or `undefined`. @throws InvalidDigestError, BlobRangeInvalidError */
  async get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined> {
    parseDigest(digest);
    opts?.signal?.throwIfAborted();
    const blob = this.#blobs.get(digest);
    if (blob === undefined) return undefined;
    const range = opts?.range === undefined ? undefined : resolveRange(opts.range, blob.size);
    const start = range?.start ?? 0;
    const end = range === undefined ? blob.size : range.end + 1;
    return { body: Readable.from(slices(blob.chunks, start, end), { objectMode: false }), size: end - start };
  }

  /** Starts a verified write held in memory until commit. @throws InvalidDigestError */
  async beginWrite(digest: string, opts?: { expectedSize?: number; signal?: AbortSignal }): Promise<BlobWriter> {
    parseDigest(digest);
    opts?.signal?.throwIfAborted();
    let chunks: Buffer[] = [];
    const sink: BlobSink = {
      write: async (chunk) => {
        // Copy: the producer may reuse its buffer once the write called back.
        chunks.push(Buffer.from(chunk));
      },
      commit: async (size) => {
        if (!this.#blobs.has(digest)) this.#blobs.set(digest, { chunks, size });
        chunks = [];
      },
      abort: async () => {
        chunks = [];
      },
    };
    return new VerifyingBlobWriter({ digest, expectedSize: opts?.expectedSize, signal: opts?.signal, sink });
  }

  /** Removes a blob; absent is fine. @throws InvalidDigestError */
  async delete(digest: string): Promise<void> {
    parseDigest(digest);
    this.#blobs.delete(digest);
  }

  /** Forgets every blob. */
  async close(): Promise<void> {
    this.#blobs.clear();
  }
}

// Yields the bytes [start, end) of a chunk list without copying them.
function* slices(chunks: readonly Buffer[], start: number, end: number): Generator<Buffer> {
  let offset = 0;
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > start && offset < end) {
      yield chunk.subarray(Math.max(start - offset, 0), Math.min(end - offset, chunk.length));
    }
    if (chunkEnd >= end) return;
    offset = chunkEnd;
  }
}
