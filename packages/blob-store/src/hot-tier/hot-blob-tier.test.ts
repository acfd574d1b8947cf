import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BlobRead, BlobStore, ByteRange } from '../blob-store.ts';
import { MemoryBlobStore } from '../memory/memory-blob-store.ts';
import { readAll, readBlob, testBlob, writeBlob } from '../testing/blob-fixtures.ts';
import { describeBlobStore } from '../testing/describe-blob-store.ts';
import { HotBlobTier, type HotBlobTierOptions } from './hot-blob-tier.ts';

const KIB = 1024;

// Every read of the contract suite after the first is answered from memory once the copy is loaded.
describeBlobStore('HotBlobTier over MemoryBlobStore', async () => {
  const store = new HotBlobTier(new MemoryBlobStore(), { budgetBytes: 4 << 20, maxBlobBytes: 1 << 20, admitAfterReads: 1 });
  return { store, cleanup: () => store.close(), holdsBlobsInMemory: true };
});

/** A MemoryBlobStore that counts the reads that reach it, and can be made to return other bytes. */
class CountingStore extends MemoryBlobStore {
  gets = 0;
  corrupt = false;

  override async get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined> {
    this.gets++;
    const read = await super.get(digest, opts);
    if (!read || !this.corrupt) return read;
    const bytes = await readAll(read);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    return { body: Readable.from([bytes]), size: bytes.length };
  }
}

async function tierWith(blobs: Buffer[], options: Partial<HotBlobTierOptions> = {}) {
  const inner = new CountingStore();
  const stored = blobs.map((bytes) => testBlob(bytes));
  for (const blob of stored) await writeBlob(inner, blob, { chunkSize: 64 * KIB });
  const tier = new HotBlobTier(inner, { budgetBytes: 1 << 20, maxBlobBytes: 512 * KIB, ...options });
  return { inner, tier, stored };
}

/** Reads the blob through `tier` `times` times, letting the load the reads start finish. */
async function readTimes(tier: HotBlobTier, digest: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await readBlob(tier, digest);
  await tier.settled();
}

/** A destination that keeps what it was given. */
function collector(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

describe('HotBlobTier', () => {
  it('keeps no copy of a blob read once, and loads one on the second read', async () => {
    const { tier, stored } = await tierWith([Buffer.alloc(300 * KIB, 1)]);
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 1);
    expect(tier.heldDigests()).toEqual([]);
    await readTimes(tier, digest, 1);
    expect(tier.heldDigests()).toEqual([digest]);
    expect(tier.heldBytes).toBe(300 * KIB);
  });

  it('answers reads of a held blob from memory, byte for byte, through writeTo and body', async () => {
    const bytes = Buffer.from(Array.from({ length: 2_500 * KIB }, (_, i) => (i * 7) % 251));
    const { inner, tier, stored } = await tierWith([bytes], { budgetBytes: 8 << 20, maxBlobBytes: 4 << 20 });
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 2);
    const storeReads = inner.gets;

    const written = collector();
    const onWritten: number[] = [];
    const read = await tier.get(digest);
    await read!.writeTo!(written.sink, { onWritten: (n) => onWritten.push(n) });
    expect(written.bytes().equals(bytes)).toBe(true);
    expect(onWritten.reduce((a, b) => a + b, 0)).toBe(bytes.length);
    expect((await readBlob(tier, digest))!.equals(bytes)).toBe(true);
    expect(inner.gets).toBe(storeReads);
  });

  it('answers ranges of a held blob from memory, and refuses a range outside it', async () => {
    const bytes = Buffer.from(Array.from({ length: 100 * KIB }, (_, i) => i % 253));
    const { inner, tier, stored } = await tierWith([bytes]);
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 2);
    const storeReads = inner.gets;
    expect((await readBlob(tier, digest, { start: 10, end: 20 }))!.equals(bytes.subarray(10, 21))).toBe(true);
    expect((await readBlob(tier, digest, { start: 100 * KIB - 5 }))!.equals(bytes.subarray(100 * KIB - 5))).toBe(true);
    await expect(tier.get(digest, { range: { start: 100 * KIB } })).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    expect(inner.gets).toBe(storeReads);
  });

  it('never serves a copy of a blob the store no longer has, and drops the copy', async () => {
    const { inner, tier, stored } = await tierWith([Buffer.alloc(10 * KIB, 3)]);
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 2);
    expect(tier.heldDigests()).toEqual([digest]);
    await inner.delete(digest); // behind the tier's back, as garbage collection in another process does
    expect(await tier.get(digest)).toBeUndefined();
    expect(tier.heldBytes).toBe(0);
  });

  it('drops the copy when the blob is deleted through it', async () => {
    const { tier, stored } = await tierWith([Buffer.alloc(10 * KIB, 4)]);
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 2);
    await tier.delete(digest);
    expect(tier.heldDigests()).toEqual([]);
    expect(await tier.get(digest)).toBeUndefined();
  });

  it('never loads a blob bigger than maxBlobBytes', async () => {
    const { inner, tier, stored } = await tierWith([Buffer.alloc(600 * KIB, 5)]);
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 5);
    expect(tier.heldDigests()).toEqual([]);
    expect(inner.gets).toBe(5);
  });

  it('stays within its budget, the least recently read out first', async () => {
    const { tier, stored } = await tierWith([Buffer.alloc(400 * KIB, 6), Buffer.alloc(400 * KIB, 7), Buffer.alloc(400 * KIB, 8)]);
    const [a, b, c] = stored.map((s) => s.digest) as [string, string, string];
    await readTimes(tier, a, 2);
    await readTimes(tier, b, 2);
    await readTimes(tier, a, 1); // a is now the more recently read
    await readTimes(tier, c, 2);
    expect(new Set(tier.heldDigests())).toEqual(new Set([a, c]));
    expect(tier.heldBytes).toBeLessThanOrEqual(1 << 20);
  });

  it('keeps nothing when the store returns bytes that do not hash to the digest, and says so', async () => {
    const failures: Array<{ digest: string; err: unknown }> = [];
    const { inner, tier, stored } = await tierWith([Buffer.alloc(50 * KIB, 9)], {
      onLoadFailed: (digest, err) => failures.push({ digest, err }),
    });
    const digest = stored[0]!.digest;
    inner.corrupt = true;
    await readTimes(tier, digest, 2);
    expect(tier.heldDigests()).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ digest, err: { code: 'BLOB_DIGEST_MISMATCH', expectedDigest: digest, actualSize: 50 * KIB } });
    expect((failures[0]!.err as { actualDigest: string }).actualDigest).not.toBe(digest);
  });

  it('stops writing a held blob when the signal aborts, and rejects when the destination closes first', async () => {
    const { tier, stored } = await tierWith([Buffer.alloc(3 << 20, 10)], { budgetBytes: 8 << 20, maxBlobBytes: 4 << 20 });
    const digest = stored[0]!.digest;
    await readTimes(tier, digest, 2);

    const controller = new AbortController();
    const taken: number[] = [];
    const read = await tier.get(digest);
    const aborted = read!.writeTo!(new PassThrough({ highWaterMark: 8 << 20 }).resume(), {
      signal: controller.signal,
      onWritten: (n) => {
        taken.push(n);
        controller.abort(new Error('client went away'));
      },
    });
    await expect(aborted).rejects.toThrow('client went away');
    expect(taken).toEqual([1 << 20]);

    const closing = new Writable({
      write(_chunk, _encoding, done) {
        this.destroy();
        done();
      },
    });
    await expect((await tier.get(digest))!.writeTo!(closing)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('passes presigning and the writable probe through to the store', async () => {
    const inner: BlobStore = Object.assign(new MemoryBlobStore(), {
      presignGet: async (digest: string) => `https://store.example/${digest}`,
    });
    const tier = new HotBlobTier(inner, { budgetBytes: 1 << 20, maxBlobBytes: 1 << 20 });
    expect(await tier.presignGet?.('sha256:x', 60)).toBe('https://store.example/sha256:x');
    expect(tier.probeWritable).toBeUndefined();
  });
});
