import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { rawGet } from './support/http-get.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { type SeededImage, testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

/**
 * The blob memory cache (VREG_BLOB_MEMORY_CACHE_BYTES, on by default)
 * through the product, over each store: embedded vreg on its disk, and the
 * distributed gateway on S3 (moto); upstream A behind a counting proxy. A
 * blob hit twice is then answered from memory, byte for byte, whole and in
 * ranges; a blob gone from the store is never answered from memory, but
 * fetched again.
 */
const env = testEnv();
const image = env.seeded.find((i) => i.name === 'library/bigimage') as SeededImage & { layers: Array<{ digest: string; size: number }> };
const layer = image.layers[1]!; // 8 MiB: within the default 64 MiB per blob
const hex = layer.digest.slice('sha256:'.length);

/** The layer's object in the store under test, reached around vreg (as garbage collection or bit rot would). */
interface StoredObject {
  read(): Promise<Buffer | undefined>;
  write(bytes: Buffer): Promise<void>;
  remove(): Promise<void>;
  close(): void;
}

function onDisk(dataDir: string): StoredObject {
  const path = join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
  return {
    read: () => readFile(path).catch(() => undefined),
    write: (bytes) => writeFile(path, bytes),
    remove: () => rm(path),
    close: () => undefined,
  };
}

function inBucket(bucket: string): StoredObject {
  const s3 = new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
  const object = { Bucket: bucket, Key: `blobs/sha256/${hex.slice(0, 2)}/${hex}` };
  return {
    read: async () => {
      const res = await s3.send(new GetObjectCommand(object)).catch(() => undefined);
      return res?.Body ? Buffer.from(await res.Body.transformToByteArray()) : undefined;
    },
    write: async (bytes) => {
      await s3.send(new PutObjectCommand({ ...object, Body: bytes }));
    },
    remove: async () => {
      await s3.send(new DeleteObjectCommand(object));
    },
    close: () => s3.destroy(),
  };
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function describeMemoryCache(mode: string, start: () => Promise<{ vreg: VregUnderTest; stored: StoredObject }>): void {
  describe(`blob memory cache (${mode})`, () => {
    let vreg: VregUnderTest;
    let stored: StoredObject;
    let proxy: ThrottledProxy;
    let blobUrl: string;
    const upstreamGets = (): number => proxy.count('GET', `/blobs/${layer.digest}`);

    async function heldBytes(): Promise<number> {
      const text = await (await fetch(`${vreg.gatewayUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('vreg_blob_memory_cache_bytes'));
      return Number(line?.split(' ').at(-1) ?? Number.NaN);
    }

    /** GETs the layer and checks it is whole and hashes to its digest. */
    async function getLayer(): Promise<void> {
      const res = await rawGet(blobUrl);
      expect(res.status).toBe(200);
      expect(res.truncated).toBe(false);
      expect(res.body.length).toBe(layer.size);
      expect(sha256(res.body)).toBe(layer.digest);
    }

    const storedWhole = (): Promise<true> =>
      waitFor(
        'the layer in the store',
        async () => {
          const bytes = await stored.read();
          return bytes && sha256(bytes) === layer.digest ? true : undefined;
        },
        30_000,
      );

    beforeAll(async () => {
      proxy = new ThrottledProxy(env.upstreamA, 1e12);
      const upstream = await proxy.start();
      ({ vreg, stored } = await start());
      const registryId = (await vreg.admin.createRegistry('memory-cache')).id;
      await vreg.admin.addUpstream(registryId, { name: 'a', url: upstream });
      blobUrl = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${image.name}/blobs/${layer.digest}`;
    }, 120_000);

    afterAll(async () => {
      await vreg?.stop();
      stored?.close();
      await proxy?.stop();
    });

    it('keeps a copy of a blob hit twice and answers from it, even when the stored bytes under it change', async () => {
      await getLayer(); // the miss: fetched and stored
      await storedWhole();
      await getLayer(); // a hit from the store
      await getLayer(); // the second hit from the store loads a copy
      await waitFor('the copy loaded', async () => ((await heldBytes()) >= layer.size ? true : undefined), 30_000);
      expect(upstreamGets()).toBe(1);

      // The stored bytes changed in place (same size): only an answer from the copy still hashes to the digest.
      const changed = (await stored.read())!;
      changed[changed.length >> 1]! ^= 0xff;
      await stored.write(changed);
      await getLayer();
      const ranged = await rawGet(blobUrl, { Range: 'bytes=1000-1999' });
      expect(ranged.status).toBe(206);
      const whole = await rawGet(`${env.upstreamA}/v2/${image.name}/blobs/${layer.digest}`);
      expect(ranged.body.equals(whole.body.subarray(1000, 2000))).toBe(true);
      expect(upstreamGets()).toBe(1);
    });

    it('never answers from memory once the store no longer has the blob: it is fetched again', async () => {
      expect(await heldBytes()).toBeGreaterThanOrEqual(layer.size);
      await stored.remove(); // as garbage collection does, outside the serving process
      await getLayer();
      expect(upstreamGets()).toBe(2);
      expect(await heldBytes()).toBeLessThan(layer.size);
      await storedWhole();
    });
  });
}

describeMemoryCache('embedded, disk', async () => {
  const vreg = await startEmbeddedUnderTest();
  return { vreg, stored: onDisk(vreg.dataDir) };
});

describeMemoryCache('distributed, S3', async () => {
  const vreg = await startDistributedUnderTest();
  return { vreg, stored: inBucket(vreg.env.VREG_S3_BUCKET!) };
});
