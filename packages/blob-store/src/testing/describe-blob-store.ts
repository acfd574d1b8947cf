import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blob-store.ts';
import { readBlob, testBlob, writeBlob } from './blob-fixtures.ts';
import { defineLargeBlobCase } from './large-blob-case.ts';
import { defineWriteCases } from './write-cases.ts';

/** A fresh store for one test, and how to dispose of it. */
export interface BlobStoreFixture {
  /** The store under test, empty. */
  store: BlobStore;
  /** Closes the store and removes what the test left behind. */
  cleanup(): Promise<void>;
  /**
   * True for stores that keep committed bytes in process memory
   * (`MemoryBlobStore`): the bounded-memory case then allows one copy.
   */
  holdsBlobsInMemory?: boolean;
}

/** Returns the fixture of the running test. */
export type UseFixture = () => BlobStoreFixture;

const INVALID_DIGESTS = [
  'sha256:../../etc/passwd',
  'sha256:../../etc',
  `sha256:${'a'.repeat(63)}`,
  `sha256:${'a'.repeat(65)}`,
  `sha256:${'A'.repeat(64)}`,
  `sha512:${'a'.repeat(64)}`,
  `sha1:${'a'.repeat(40)}`,
  `md5:${'a'.repeat(32)}`,
  `sha256:${'a'.repeat(62)}/x`,
  `sha256:${'a'.repeat(64)}\n`,
  'a'.repeat(64),
  '',
];

/**
 * The contract every `BlobStore` adapter must satisfy (after distribution's
 * storage driver test suites). Call at the top level of a test file:
 * `describeBlobStore('FsBlobStore', async () => ({ store, cleanup }))`.
 * `makeStore` runs before each test and must return an empty store.
 */
export function describeBlobStore(name: string, makeStore: () => Promise<BlobStoreFixture>): void {
  describe(name, () => {
    let fixture: BlobStoreFixture | undefined;
    const use: UseFixture = () => {
      if (fixture === undefined) throw new Error('no store: makeStore failed');
      return fixture;
    };

    beforeEach(async () => {
      fixture = await makeStore();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('returns the bytes that were written, with their size', async () => {
      const { store } = use();
      const blob = testBlob('hello, content-addressed world\n'.repeat(50));
      await writeBlob(store, blob, { expectedSize: blob.bytes.length });
      const read = await store.get(blob.digest);
      expect(read?.size).toBe(blob.bytes.length);
      expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
      expect(await store.stat(blob.digest)).toEqual({ size: blob.bytes.length });
      read?.body.destroy();
    });

    it('stores an empty blob', async () => {
      const { store } = use();
      const blob = testBlob('');
      await writeBlob(store, blob, { expectedSize: 0 });
      expect(await store.stat(blob.digest)).toEqual({ size: 0 });
      expect(await readBlob(store, blob.digest)).toEqual(Buffer.alloc(0));
    });

    it('stores sha512 blobs', async () => {
      const { store } = use();
      const blob = testBlob('sha512 content', 'sha512');
      await writeBlob(store, blob);
      expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
    });

    it('serves byte ranges with inclusive ends, clamping an end past the blob', async () => {
      const { store } = use();
      const blob = testBlob('0123456789abcdefghij');
      await writeBlob(store, blob);
      expect((await readBlob(store, blob.digest, { start: 2, end: 5 }))?.toString()).toBe('2345');
      expect((await readBlob(store, blob.digest, { start: 15 }))?.toString()).toBe('fghij');
      expect((await readBlob(store, blob.digest, { start: 19, end: 19 }))?.toString()).toBe('j');
      expect((await readBlob(store, blob.digest, { start: 0, end: 0 }))?.toString()).toBe('0');
      expect((await readBlob(store, blob.digest, { start: 18, end: 1000 }))?.toString()).toBe('ij');
      const read = await store.get(blob.digest, { range: { start: 3, end: 7 } });
      expect(read?.size).toBe(5);
      read?.body.destroy();
    });

    it('answers RANGE_INVALID for a range outside the blob', async () => {
      const { store } = use();
      const blob = testBlob('0123456789');
      await writeBlob(store, blob);
      await expect(store.get(blob.digest, { range: { start: 10 } })).rejects.toMatchObject({
        code: 'RANGE_INVALID',
        size: 10,
      });
      await expect(store.get(blob.digest, { range: { start: 5, end: 4 } })).rejects.toMatchObject({
        code: 'RANGE_INVALID',
      });
      await expect(store.get(blob.digest, { range: { start: -1 } })).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    });

    it('answers undefined for a digest it does not hold', async () => {
      const { store } = use();
      const absent = testBlob('never stored');
      expect(await store.stat(absent.digest)).toBeUndefined();
      expect(await store.get(absent.digest)).toBeUndefined();
      expect(await store.get(absent.digest, { range: { start: 0, end: 1 } })).toBeUndefined();
    });

    it('rejects invalid digests with DIGEST_INVALID before touching storage', async () => {
      const { store } = use();
      for (const digest of INVALID_DIGESTS) {
        await expect(store.stat(digest), digest).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
        await expect(store.get(digest), digest).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
        await expect(store.beginWrite(digest), digest).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
        await expect(store.delete(digest), digest).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
      }
    });

    it('deletes a blob, and deleting an absent blob is fine', async () => {
      const { store } = use();
      const keep = testBlob('keep me');
      const drop = testBlob('drop me');
      await writeBlob(store, keep);
      await writeBlob(store, drop);
      await store.delete(drop.digest);
      expect(await store.stat(drop.digest)).toBeUndefined();
      expect(await store.get(drop.digest)).toBeUndefined();
      expect(await readBlob(store, keep.digest)).toEqual(keep.bytes);
      await store.delete(drop.digest);
      await store.delete(testBlob('never stored').digest);
    });

    defineWriteCases(use);
    defineLargeBlobCase(use);
  });
}
