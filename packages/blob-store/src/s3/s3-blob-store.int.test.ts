import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunksOf, readBlob, testBlob, writeBlob } from '../testing/blob-fixtures.ts';
import { describeBlobStore } from '../testing/describe-blob-store.ts';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts';
import { type MotoServer, startMotoServer } from './start-moto-server.ts';

const MIB = 1024 * 1024;
// Every bucket of this run carries the run id, so runs never see each other.
const RUN_ID = randomBytes(4).toString('hex');
let bucketCount = 0;
let endpoint = '';
let moto: MotoServer | undefined;
let admin: S3Client;

beforeAll(async () => {
  const fromEnv = process.env.VREG_TEST_S3_ENDPOINT;
  if (fromEnv === undefined || fromEnv === '') moto = await startMotoServer();
  endpoint = fromEnv || (moto as MotoServer).endpoint;
  admin = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

async function makeS3Store(opts?: Partial<S3BlobStoreOptions>): Promise<{ store: S3BlobStore; cleanup(): Promise<void> }> {
  bucketCount += 1;
  const bucket = `vreg-blob-store-${RUN_ID}-${bucketCount}`;
  const store = new S3BlobStore({
    endpoint,
    region: 'us-east-1',
    bucket,
    accessKeyId: 'test',
    secretAccessKey: 'test',
    forcePathStyle: true,
    ...opts,
  });
  await store.ensureBucket();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteBucket(bucket);
    },
  };
}

async function pendingUploads(bucket: string): Promise<number> {
  const res = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return res.Uploads?.length ?? 0;
}

async function deleteBucket(Bucket: string): Promise<void> {
  const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket }));
  for (const u of uploads.Uploads ?? []) {
    await admin.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  const listed = await admin.send(new ListObjectsV2Command({ Bucket }));
  for (const o of listed.Contents ?? []) await admin.send(new DeleteObjectCommand({ Bucket, Key: o.Key }));
  await admin.send(new DeleteBucketCommand({ Bucket }));
}

describeBlobStore('S3BlobStore (moto)', () => makeS3Store());

describe('S3BlobStore on a real S3 server', () => {
  it('uploads a blob bigger than one part as multipart and shows nothing before commit', async () => {
    const { store, cleanup } = await makeS3Store({ partSizeBytes: 5 * MIB });
    try {
      const blob = testBlob(randomBytes(12 * MIB));
      const writer = await store.beginWrite(blob.digest, { expectedSize: blob.bytes.length });
      await pipeline(Readable.from(chunksOf(blob.bytes, 256 * 1024)), writer.stream);
      expect(await pendingUploads(store.bucket)).toBe(1);
      expect(await store.stat(blob.digest)).toBeUndefined();
      await writer.commit();
      expect(await pendingUploads(store.bucket)).toBe(0);
      // Compare digests: vitest's deep equality crawls a 12 MiB buffer byte by byte.
      expect(testBlob((await readBlob(store, blob.digest)) ?? '').digest).toBe(blob.digest);
      const acrossParts = await readBlob(store, blob.digest, { start: 5 * MIB - 2, end: 5 * MIB + 1 });
      expect(acrossParts?.equals(blob.bytes.subarray(5 * MIB - 2, 5 * MIB + 2))).toBe(true);
    } finally {
      await cleanup();
    }
  });

  it('aborts the multipart upload on a digest mismatch and on abort()', async () => {
    const { store, cleanup } = await makeS3Store({ partSizeBytes: 5 * MIB });
    try {
      const claimed = testBlob(randomBytes(11 * MIB));
      const forged = { digest: claimed.digest, bytes: randomBytes(11 * MIB) };
      await expect(writeBlob(store, forged, { chunkSize: MIB })).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
      expect(await pendingUploads(store.bucket)).toBe(0);

      const writer = await store.beginWrite(claimed.digest);
      for (const chunk of chunksOf(claimed.bytes.subarray(0, 7 * MIB), MIB)) {
        await new Promise<void>((resolve, reject) => writer.stream.write(chunk, (e) => (e ? reject(e) : resolve())));
      }
      expect(await pendingUploads(store.bucket)).toBe(1);
      await writer.abort();
      expect(await pendingUploads(store.bucket)).toBe(0);
      expect(await store.stat(claimed.digest)).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('sends a blob of exactly one part as a single PUT', async () => {
    const { store, cleanup } = await makeS3Store({ partSizeBytes: 5 * MIB });
    try {
      const blob = testBlob(randomBytes(5 * MIB));
      const writer = await store.beginWrite(blob.digest);
      await pipeline(Readable.from(chunksOf(blob.bytes, MIB)), writer.stream);
      expect(await pendingUploads(store.bucket)).toBe(0);
      await writer.commit();
      expect(await store.stat(blob.digest)).toEqual({ size: 5 * MIB });
    } finally {
      await cleanup();
    }
  });

  it('keeps blobs under its key prefix', async () => {
    const { store, cleanup } = await makeS3Store({ prefix: '/mirror/' });
    try {
      const blob = testBlob('prefixed');
      await writeBlob(store, blob);
      const hex = blob.digest.slice('sha256:'.length);
      const key = `mirror/blobs/sha256/${hex.slice(0, 2)}/${hex}`;
      expect(store.key(blob.digest)).toBe(key);
      const head = await admin.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
      expect(head.ContentLength).toBe(blob.bytes.length);
    } finally {
      await cleanup();
    }
  });

  it('answers BLOB_STORE_UNAVAILABLE for a missing bucket or an unreachable server', async () => {
    const missing = new S3BlobStore({
      endpoint,
      region: 'us-east-1',
      bucket: `vreg-missing-${RUN_ID}`,
      accessKeyId: 'test',
      secretAccessKey: 'test',
      forcePathStyle: true,
    });
    const blob = testBlob('nowhere');
    await expect(missing.get(blob.digest)).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    await expect(writeBlob(missing, blob)).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    await missing.close();

    const down = new S3BlobStore({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      bucket: 'b',
      forcePathStyle: true,
      accessKeyId: 'test',
      secretAccessKey: 'test',
    });
    await expect(down.stat(blob.digest)).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    await down.close();
  });

  it('refuses a part size below S3’s 5 MiB minimum', () => {
    expect(() => new S3BlobStore({ region: 'us-east-1', bucket: 'b', partSizeBytes: MIB })).toThrow(RangeError);
  });
});
