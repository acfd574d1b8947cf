import { describe, expect, it } from 'vitest';
import { testBlob, writeBlob } from '../testing/blob-fixtures.ts';
import { describeBlobStore } from '../testing/describe-blob-store.ts';
import { MemoryBlobStore } from './memory-blob-store.ts';

describeBlobStore('MemoryBlobStore', async () => {
  const store = new MemoryBlobStore();
  return { store, cleanup: () => store.close(), holdsBlobsInMemory: true };
});

describe('MemoryBlobStore extras', () => {
  it('lists the digests it holds', async () => {
    const store = new MemoryBlobStore();
    const a = testBlob('a');
    const b = testBlob('b');
    await writeBlob(store, a);
    await writeBlob(store, b);
    expect(store.size).toBe(2);
    expect(store.digests()).toEqual([a.digest, b.digest]);
  });

  it('keeps its own copy of the bytes written', async () => {
    const store = new MemoryBlobStore();
    const blob = testBlob('mutable source');
    const source = Buffer.from(blob.bytes);
    const writer = await store.beginWrite(blob.digest);
    writer.stream.end(source);
    await writer.commit();
    source.fill(0);
    const read = await store.get(blob.digest);
    const chunks: Buffer[] = [];
    for await (const chunk of read?.body ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(blob.bytes);
  });
});
