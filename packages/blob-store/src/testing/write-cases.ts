import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect, it } from 'vitest';
import { BlobDigestMismatchError } from '../errors.ts';
import { chunksOf, readBlob, testBlob, writeBlob } from './blob-fixtures.ts';
import type { UseFixture } from './describe-blob-store.ts';

/** The write half of the blob store contract; see `describeBlobStore`. */
export function defineWriteCases(use: UseFixture): void {
  it('makes nothing visible before commit', async () => {
    const { store } = use();
    const blob = testBlob('pending bytes');
    const writer = await store.beginWrite(blob.digest);
    await pipeline(Readable.from([blob.bytes]), writer.stream);
    expect(writer.bytesWritten).toBe(blob.bytes.length);
    expect(await store.stat(blob.digest)).toBeUndefined();
    expect(await store.get(blob.digest)).toBeUndefined();
    await writer.commit();
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
  });

  it('counts bytes as they are accepted, and commit ends an unended stream', async () => {
    const { store } = use();
    const blob = testBlob('abcdefghij');
    const writer = await store.beginWrite(blob.digest, { expectedSize: 10 });
    expect(writer.bytesWritten).toBe(0);
    await new Promise<void>((resolve, reject) => writer.stream.write(blob.bytes.subarray(0, 4), (e) => (e ? reject(e) : resolve())));
    expect(writer.bytesWritten).toBe(4);
    writer.stream.write(blob.bytes.subarray(4));
    await writer.commit();
    await writer.commit();
    expect(writer.bytesWritten).toBe(10);
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
  });

  it('refuses bytes that do not hash to the digest and makes nothing visible', async () => {
    const { store } = use();
    const claimed = testBlob('the bytes the manifest promised');
    const actual = testBlob('something else entirely');
    const writer = await store.beginWrite(claimed.digest);
    await pipeline(Readable.from(chunksOf(actual.bytes, 5)), writer.stream);
    const err = await writer.commit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BlobDigestMismatchError);
    expect(err).toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
      expectedDigest: claimed.digest,
      actualDigest: actual.digest,
      actualSize: actual.bytes.length,
    });
    await writer.abort(err);
    expect(await store.stat(claimed.digest)).toBeUndefined();
    expect(await store.get(claimed.digest)).toBeUndefined();
    expect(await store.stat(actual.digest)).toBeUndefined();
  });

  it('refuses the right bytes under a wrong expected size', async () => {
    const { store } = use();
    const blob = testBlob('twelve bytes');
    const writer = await store.beginWrite(blob.digest, { expectedSize: 13 });
    await pipeline(Readable.from([blob.bytes]), writer.stream);
    await expect(writer.commit()).rejects.toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
      expectedSize: 13,
      actualSize: 12,
      actualDigest: blob.digest,
    });
    expect(await store.stat(blob.digest)).toBeUndefined();
  });

  it('fails the stream as soon as more bytes than expected arrive', async () => {
    const { store } = use();
    const blob = testBlob('x'.repeat(100));
    const writer = await store.beginWrite(blob.digest, { expectedSize: 10 });
    await expect(pipeline(Readable.from(chunksOf(blob.bytes, 4)), writer.stream)).rejects.toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
      expectedSize: 10,
    });
    expect(writer.bytesWritten).toBeLessThanOrEqual(10);
    await expect(writer.commit()).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    expect(await store.stat(blob.digest)).toBeUndefined();
  });

  it('makes nothing visible when aborted; abort is idempotent and commit then rejects', async () => {
    const { store } = use();
    const blob = testBlob('about to be abandoned');
    const writer = await store.beginWrite(blob.digest);
    await new Promise<void>((resolve) => writer.stream.write(blob.bytes, () => resolve()));
    const reason = new Error('client went away');
    await writer.abort(reason);
    await writer.abort();
    await expect(writer.commit()).rejects.toBe(reason);
    expect(writer.stream.destroyed).toBe(true);
    expect(await store.stat(blob.digest)).toBeUndefined();
    expect(await store.get(blob.digest)).toBeUndefined();
  });

  it('aborts the write when its signal fires mid-stream', async () => {
    const { store } = use();
    const blob = testBlob('y'.repeat(4096));
    const controller = new AbortController();
    const writer = await store.beginWrite(blob.digest, { signal: controller.signal });
    async function* slowSource(): AsyncGenerator<Buffer> {
      yield blob.bytes.subarray(0, 1000);
      controller.abort(new Error('fill cancelled'));
      yield blob.bytes.subarray(1000);
    }
    await expect(pipeline(slowSource(), writer.stream)).rejects.toThrow();
    await expect(writer.commit()).rejects.toThrow('fill cancelled');
    await writer.abort();
    expect(await store.stat(blob.digest)).toBeUndefined();
  });

  it('refuses to begin a write whose signal has already fired', async () => {
    const { store } = use();
    const blob = testBlob('never begun');
    await expect(store.beginWrite(blob.digest, { signal: AbortSignal.abort(new Error('too late')) })).rejects.toThrow('too late');
    expect(await store.stat(blob.digest)).toBeUndefined();
  });

  it('lets concurrent writers of the same digest all commit', async () => {
    const { store } = use();
    const blob = testBlob('z'.repeat(10_000));
    const writers = await Promise.all([1, 2, 3].map(() => store.beginWrite(blob.digest, { expectedSize: 10_000 })));
    // Interleave the chunks of all writers, then commit them all at once.
    for (const chunk of chunksOf(blob.bytes, 1000)) {
      await Promise.all(writers.map((w) => new Promise<void>((r, j) => w.stream.write(chunk, (e) => (e ? j(e) : r())))));
    }
    await Promise.all(writers.map((w) => w.commit()));
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
    expect(await store.stat(blob.digest)).toEqual({ size: 10_000 });
  });

  it('accepts a write of a blob that already exists', async () => {
    const { store } = use();
    const blob = testBlob('written twice');
    await writeBlob(store, blob);
    await writeBlob(store, blob, { expectedSize: blob.bytes.length });
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
  });

  it('keeps the stored blob when a later write of it fails verification', async () => {
    const { store } = use();
    const blob = testBlob('the real thing');
    await writeBlob(store, blob);
    await expect(writeBlob(store, { digest: blob.digest, bytes: Buffer.from('a forgery') })).rejects.toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
    });
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
  });
}
