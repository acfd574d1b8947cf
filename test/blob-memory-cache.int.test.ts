import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { rawGet } from './support/http-get.ts';
import { type SeededImage, testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

/**
 * The blob memory cache (VREG_BLOB_MEMORY_CACHE_BYTES, on by default)
 * through the product: embedded vreg on its disk store, upstream A behind a
 * counting proxy. A blob hit twice is then answered from memory, byte for
 * byte, whole and in ranges; a blob gone from the store is never answered
 * from memory, but fetched again.
 */
const env = testEnv();
const image = env.seeded.find((i) => i.name === 'library/bigimage') as SeededImage & { layers: Array<{ digest: string; size: number }> };
const layer = image.layers[1]!; // 8 MiB: within the default 64 MiB per blob

type Vreg = Awaited<ReturnType<typeof startEmbeddedUnderTest>>;
let vreg: Vreg;
let proxy: ThrottledProxy;
let blobUrl: string;

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const storedPath = (): string => join(vreg.dataDir, 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7));
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

describe('blob memory cache (embedded)', () => {
  beforeAll(async () => {
    proxy = new ThrottledProxy(env.upstreamA, 1e12);
    const upstream = await proxy.start();
    vreg = await startEmbeddedUnderTest();
    const registryId = (await vreg.admin.createRegistry('memory-cache')).id;
    await vreg.admin.addUpstream(registryId, { name: 'a', url: upstream });
    blobUrl = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${image.name}/blobs/${layer.digest}`;
  }, 60_000);

  afterAll(async () => {
    await vreg?.stop();
    await proxy?.stop();
  });

  it('keeps a copy of a blob hit twice and answers from it, even when the file under it changes', async () => {
    await getLayer(); // the miss: fetched and stored
    await waitFor('the blob on disk', async () => (await readFile(storedPath()).catch(() => undefined)) && true, 30_000);
    await getLayer(); // a hit from the disk
    await getLayer(); // the second hit from the disk loads a copy
    await waitFor('the copy loaded', async () => ((await heldBytes()) >= layer.size ? true : undefined), 30_000);
    expect(upstreamGets()).toBe(1);

    // Bytes changed in place (same size) on disk: only an answer from the copy still hashes to the digest.
    const onDisk = await readFile(storedPath());
    onDisk[onDisk.length >> 1]! ^= 0xff;
    await writeFile(storedPath(), onDisk);
    await getLayer();
    const ranged = await rawGet(blobUrl, { Range: 'bytes=1000-1999' });
    expect(ranged.status).toBe(206);
    const whole = await rawGet(`${env.upstreamA}/v2/${image.name}/blobs/${layer.digest}`);
    expect(ranged.body.equals(whole.body.subarray(1000, 2000))).toBe(true);
    expect(upstreamGets()).toBe(1);
  });

  it('never answers from memory once the store no longer has the blob: it is fetched again', async () => {
    expect(await heldBytes()).toBeGreaterThanOrEqual(layer.size);
    await rm(storedPath()); // as garbage collection does, outside the serving process
    await getLayer();
    expect(upstreamGets()).toBe(2);
    expect(await heldBytes()).toBeLessThan(layer.size);
    await waitFor(
      'the blob stored again',
      async () => {
        const bytes = await readFile(storedPath()).catch(() => undefined);
        return bytes && sha256(bytes) === layer.digest ? true : undefined;
      },
      30_000,
    );
  });
});
