import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BlobRead, BlobStore } from '../blob-store.ts';

/** Some bytes and their digest. */
export interface TestBlob {
  /** `sha256:<hex>` (or sha512) of `bytes`. */
  digest: string;
  /** The content. */
  bytes: Buffer;
}

/** Makes a test blob from bytes or text, digested with `algorithm`. */
export function testBlob(content: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): TestBlob {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { digest: `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`, bytes };
}

/** Splits bytes into chunks of `size` bytes (the last may be shorter). */
export function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

/** Streams `bytes` into a new write under `digest` in small chunks and commits it. */
export async function writeBlob(store: BlobStore, blob: TestBlob, opts?: { expectedSize?: number; chunkSize?: number }): Promise<void> {
  const writer = await store.beginWrite(blob.digest, { expectedSize: opts?.expectedSize });
  try {
    await pipeline(Readable.from(chunksOf(blob.bytes, opts?.chunkSize ?? 7)), writer.stream);
    await writer.commit();
  } catch (err) {
    await writer.abort(err);
    throw err;
  }
}

/** Reads a whole body into one buffer (small test blobs only). */
export async function readAll(read: BlobRead | undefined): Promise<Buffer> {
  if (read === undefined) throw new Error('expected a blob, got undefined');
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Reads a stored blob (or range) fully, or `undefined` when absent. */
export async function readBlob(store: BlobStore, digest: string, range?: { start: number; end?: number }): Promise<Buffer | undefined> {
  const read = await store.get(digest, range === undefined ? undefined : { range });
  return read === undefined ? undefined : readAll(read);
}

let collectGarbage: (() => void) | undefined;

/**
 * Runs a full garbage collection, so memory samples show what is retained
 * rather than what is merely not yet collected. Exposes V8's `gc` at run time
 * when the process was not started with `--expose-gc`.
 */
export function forceGc(): void {
  if (collectGarbage === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing !== undefined) {
      collectGarbage = existing;
    } else {
      setFlagsFromString('--expose-gc');
      collectGarbage = runInNewContext('gc') as () => void;
    }
  }
  collectGarbage();
}

/** Peak growth of `rss` and `arrayBuffers` over a baseline, in bytes. */
export class MemoryProbe {
  readonly #base: NodeJS.MemoryUsage;
  #peakRss = 0;
  #peakArrayBuffers = 0;

  /** Collects garbage and takes the baseline. */
  constructor() {
    forceGc();
    this.#base = process.memoryUsage();
  }

  /** Takes a sample (after a GC when `collect` is true). */
  sample(collect = false): void {
    if (collect) forceGc();
    const now = process.memoryUsage();
    this.#peakRss = Math.max(this.#peakRss, now.rss - this.#base.rss);
    this.#peakArrayBuffers = Math.max(this.#peakArrayBuffers, now.arrayBuffers - this.#base.arrayBuffers);
  }

  /** Largest rss growth seen, in bytes. */
  get rssGrowth(): number {
    return this.#peakRss;
  }

  /** Largest arrayBuffers growth seen, in bytes. */
  get arrayBuffersGrowth(): number {
    return this.#peakArrayBuffers;
  }
}
