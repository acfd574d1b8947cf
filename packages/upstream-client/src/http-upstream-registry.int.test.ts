import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import { ManifestMediaType } from './media-types.ts';
import type { DistributionRegistry } from './testing/distribution-registry.ts';
import { startDistributionRegistry } from './testing/distribution-registry.ts';
import type { PushedImage } from './testing/push-image.ts';
import { pushImage, sha256 } from './testing/push-image.ts';
import { UpstreamAddressPolicy } from './upstream-address-policy.ts';

// Against the real CNCF distribution registry: the one the test env runs
// (VREG_TEST_UPSTREAM_URL) or, when unset, one this file starts itself.
let owned: DistributionRegistry | undefined;
let upstreamUrl: string;
let image: PushedImage;
const client = new HttpUpstreamRegistry({ addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
const name = `vreg-test/upstream-client-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const fromEnv = process.env['VREG_TEST_UPSTREAM_URL'];
  if (fromEnv === undefined || fromEnv === '') {
    owned = await startDistributionRegistry();
    upstreamUrl = owned.url;
  } else {
    upstreamUrl = fromEnv;
  }
  image = await pushImage(upstreamUrl, name, 'v1', randomBytes(100_000));
});

afterAll(async () => {
  await client.close();
  await owned?.stop();
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('HttpUpstreamRegistry against the distribution registry', () => {
  it('gets a manifest by tag, byte-exact, with a Docker-Content-Digest that hashes the bytes', async () => {
    const res = await client.getManifest({ url: upstreamUrl }, name, 'v1');
    expect(res).toBeDefined();
    const bytes = await readAll(res!.body);
    expect(bytes.equals(image.manifest)).toBe(true);
    expect(res?.status).toBe(200);
    expect(res?.contentType).toBe(ManifestMediaType.OciManifest);
    expect(res?.contentLength).toBe(bytes.length);
    expect(res?.dockerContentDigest).toBe(sha256(bytes));
    expect(res?.dockerContentDigest).toBe(image.manifestDigest);
  });

  it('gets the same manifest by digest', async () => {
    const res = await client.getManifest({ url: upstreamUrl }, name, image.manifestDigest);
    expect((await readAll(res!.body)).equals(image.manifest)).toBe(true);
    expect(res?.dockerContentDigest).toBe(image.manifestDigest);
  });

  it('heads a manifest without a body', async () => {
    const head = await client.headManifest({ url: upstreamUrl }, name, 'v1');
    expect(head).toMatchObject({
      contentType: ManifestMediaType.OciManifest,
      contentLength: image.manifest.length,
      dockerContentDigest: image.manifestDigest,
    });
  });

  it('gets a whole blob and heads it', async () => {
    const res = await client.getBlob({ url: upstreamUrl }, name, image.layerDigest);
    expect(res?.status).toBe(200);
    expect((await readAll(res!.body)).equals(image.layer)).toBe(true);
    const head = await client.headBlob({ url: upstreamUrl }, name, image.layerDigest);
    expect(head).toMatchObject({ contentLength: image.layer.length, dockerContentDigest: image.layerDigest });
  });

  it('gets a byte range of a blob, closed and open-ended', async () => {
    const closed = await client.getBlob({ url: upstreamUrl }, name, image.layerDigest, { range: { start: 10, end: 99 } });
    expect(closed?.status).toBe(206);
    expect((await readAll(closed!.body)).equals(image.layer.subarray(10, 100))).toBe(true);
    const open = await client.getBlob({ url: upstreamUrl }, name, image.layerDigest, { range: { start: 99_990 } });
    expect(open?.status).toBe(206);
    expect((await readAll(open!.body)).equals(image.layer.subarray(99_990))).toBe(true);
  });

  it('answers undefined for an unknown tag, digest, blob and repository', async () => {
    const t = { url: upstreamUrl };
    const missing = sha256(Buffer.from('not pushed'));
    expect(await client.getManifest(t, name, 'no-such-tag')).toBeUndefined();
    expect(await client.headManifest(t, name, missing)).toBeUndefined();
    expect(await client.getBlob(t, name, missing)).toBeUndefined();
    expect(await client.headBlob(t, name, missing)).toBeUndefined();
    expect(await client.getManifest(t, `${name}-absent`, 'v1')).toBeUndefined();
  });
});
