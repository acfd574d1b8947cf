import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobKey } from '../blob-key.ts';
import { readBlob, testBlob, writeBlob } from '../testing/blob-fixtures.ts';
import { describeBlobStore } from '../testing/describe-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';

async function makeRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vreg-fs-blob-store-'));
}

describeBlobStore('FsBlobStore', async () => {
  const root = await makeRoot();
  const store = new FsBlobStore({ root });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe('FsBlobStore on disk', () => {
  let root: string;
  let store: FsBlobStore;

  beforeEach(async () => {
    root = await makeRoot();
    store = new FsBlobStore({ root });
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('stores a blob at blobs/<algorithm>/<2 hex>/<hex> under its root', async () => {
    const blob = testBlob('laid out');
    await writeBlob(store, blob);
    const hex = blob.digest.slice('sha256:'.length);
    expect(blobKey(blob.digest)).toBe(`blobs/sha256/${hex.slice(0, 2)}/${hex}`);
    expect(await readdir(join(root, 'blobs', 'sha256', hex.slice(0, 2)))).toEqual([hex]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('makes its directories again when they are gone (made once, not checked per write)', async () => {
    const first = testBlob('first');
    await writeBlob(store, first);
    await rm(join(root, 'tmp'), { recursive: true });
    await rm(join(root, 'blobs'), { recursive: true });
    const second = testBlob('second');
    await writeBlob(store, second);
    expect(await readBlob(store, second.digest)).toEqual(second.bytes);
  });

  it('replaces a blob committed meanwhile with the same bytes, leaving no temp file', async () => {
    const blob = testBlob('twice');
    const late = await store.beginWrite(blob.digest);
    await pipeline(Readable.from([blob.bytes]), late.stream);
    await writeBlob(store, blob);
    await late.commit();
    expect(await readBlob(store, blob.digest)).toEqual(blob.bytes);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('writes into tmp/ and leaves blobs/ untouched until commit', async () => {
    const blob = testBlob('staged');
    const writer = await store.beginWrite(blob.digest);
    await pipeline(Readable.from([blob.bytes]), writer.stream);
    expect(await readdir(join(root, 'tmp'))).toHaveLength(1);
    await expect(readdir(join(root, 'blobs'))).rejects.toMatchObject({ code: 'ENOENT' });
    await writer.commit();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('removes the temp file on abort and on a digest mismatch', async () => {
    const blob = testBlob('discarded');
    const aborted = await store.beginWrite(blob.digest);
    aborted.stream.write(blob.bytes);
    await aborted.abort();
    await expect(writeBlob(store, { digest: blob.digest, bytes: Buffer.from('forged') })).rejects.toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
    });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('reads back what a write put in its temp file, still after the commit moved it and after an abort removed it', async () => {
    const blob = testBlob('read me back while i am written');
    const writer = await store.beginWrite(blob.digest, { expectedSize: blob.bytes.length });
    const written = await writer.openWrittenBytes!();
    await new Promise<void>((resolve, reject) => writer.stream.write(blob.bytes.subarray(0, 10), (e) => (e ? reject(e) : resolve())));
    const head = Buffer.alloc(10);
    expect(await written.read(head, 0)).toBe(10);
    expect(head).toEqual(blob.bytes.subarray(0, 10));
    writer.stream.end(blob.bytes.subarray(10));
    await writer.commit();
    const all = Buffer.alloc(blob.bytes.length);
    expect(await written.read(all, 0)).toBe(blob.bytes.length);
    expect(all).toEqual(blob.bytes);
    await written.close();
    await expect(writer.openWrittenBytes!()).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });

    const other = testBlob('aborted halfway');
    const aborted = await store.beginWrite(other.digest);
    const partial = await aborted.openWrittenBytes!();
    await new Promise<void>((resolve, reject) => aborted.stream.write(other.bytes, (e) => (e ? reject(e) : resolve())));
    await aborted.abort(new Error('client gone'));
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const kept = Buffer.alloc(other.bytes.length);
    expect(await partial.read(kept, 0)).toBe(other.bytes.length);
    await partial.close();
  });

  it('removes temp files older than an hour at start and keeps fresh ones', async () => {
    const tmp = join(root, 'tmp');
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, 'stale'), 'left by a crash');
    await writeFile(join(tmp, 'fresh'), 'a write in progress elsewhere');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(tmp, 'stale'), twoHoursAgo, twoHoursAgo);
    const restarted = new FsBlobStore({ root });
    await restarted.close();
    expect(await readdir(tmp)).toEqual(['fresh']);
  });

  it('never reads or writes outside its root for a hostile digest', async () => {
    const outside = join(root, '..', `vreg-outside-${process.pid}`);
    await expect(store.beginWrite(`sha256:../../${outside}`)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    await expect(store.get('sha256:../../../../etc/passwd')).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    await expect(store.delete('sha256:..')).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(await readdir(root)).not.toContain('blobs');
  });

  it('reads a blob written by another instance on the same root', async () => {
    const blob = testBlob('shared on disk');
    await writeBlob(store, blob);
    const other = new FsBlobStore({ root });
    expect(await readBlob(other, blob.digest, { start: 7 })).toEqual(Buffer.from('on disk'));
    await other.close();
  });
});
