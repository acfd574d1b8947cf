import { createCipheriv, createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';

const CHUNK = 1 << 20;

export interface HugeImage {
  name: string;
  tag: string;
  manifestDigest: string;
  /** The one big layer. */
  layer: { digest: string; size: number };
}

export interface BenchImage {
  name: string;
  tag: string;
  manifestDigest: string;
  /** Every layer, in manifest order. */
  layers: Array<{ digest: string; size: number }>;
}

/**
 * `size` deterministic pseudo-random bytes (AES-256-CTR over zeros with a
 * fixed key), generated on demand 1 MiB at a time: the bench hashes them
 * once and uploads them a second time without ever holding the blob.
 */
export function* deterministicBytes(size: number, seed = 'vreg-bench'): Generator<Buffer> {
  const key = createHash('sha256').update(`${seed}/key`).digest();
  const iv = createHash('sha256').update(`${seed}/iv`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK);
  for (let left = size; left > 0; left -= CHUNK) yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
}

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Layer i's bytes: the first layer keeps the original seed, so one-layer images keep their digests. */
const layerSeed = (i: number): string => (i === 0 ? 'vreg-bench' : `vreg-bench/layer-${i}`);

/**
 * Makes sure upstream `upstreamUrl` has `name:tag`, an OCI image with one
 * `size`-byte layer, pushing it (streamed, monolithic upload) only when the
 * tag is missing or has another size. Bench-only name: the tests never see it.
 */
export async function ensureHugeImage(upstreamUrl: string, name: string, tag: string, size: number): Promise<HugeImage> {
  const image = await ensureBenchImage(upstreamUrl, name, tag, [size]);
  return { name, tag, manifestDigest: image.manifestDigest, layer: image.layers[0]! };
}

/**
 * Makes sure upstream `upstreamUrl` has `name:tag`, an OCI image with a
 * layer of each of `sizes` (distinct bytes each), pushing only what is
 * missing (streamed, monolithic uploads) when the tag is missing or differs.
 * Bench-only names: the tests never see them.
 */
export async function ensureBenchImage(upstreamUrl: string, name: string, tag: string, sizes: number[]): Promise<BenchImage> {
  const layers = sizes.map((size, i) => {
    const hash = createHash('sha256');
    for (const chunk of deterministicBytes(size, layerSeed(i))) hash.update(chunk);
    return { digest: `sha256:${hash.digest('hex')}`, size };
  });
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size })),
    }),
  );
  const image = { name, tag, manifestDigest: sha256(manifest), layers };
  const existing = await send(upstreamUrl, 'HEAD', `/v2/${name}/manifests/${tag}`, {
    accept: 'application/vnd.oci.image.manifest.v1+json',
  });
  if (existing.status === 200 && existing.headers['docker-content-digest'] === image.manifestDigest) return image;

  for (const [i, layer] of layers.entries())
    await uploadBlob(upstreamUrl, name, layer.digest, layer.size, Readable.from(deterministicBytes(layer.size, layerSeed(i))));
  await uploadBlob(upstreamUrl, name, sha256(config), config.length, Readable.from([config]));
  const put = await send(
    upstreamUrl,
    'PUT',
    `/v2/${name}/manifests/${tag}`,
    { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(manifest.length) },
    Readable.from([manifest]),
  );
  if (put.status !== 201) throw new Error(`push ${name}:${tag} manifest: ${put.status} ${put.body}`);
  return image;
}

/** POST an upload session, then PUT the whole body with its digest (the spec's monolithic upload). */
async function uploadBlob(upstreamUrl: string, name: string, digest: string, size: number, body: Readable): Promise<void> {
  const head = await send(upstreamUrl, 'HEAD', `/v2/${name}/blobs/${digest}`, {});
  if (head.status === 200) return;
  const start = await send(upstreamUrl, 'POST', `/v2/${name}/blobs/uploads/`, { 'content-length': '0' });
  const location = start.headers.location;
  if (start.status !== 202 || typeof location !== 'string') throw new Error(`start upload to ${name}: ${start.status} ${start.body}`);
  const target = new URL(location, upstreamUrl);
  target.searchParams.set('digest', digest);
  const put = await send(
    upstreamUrl,
    'PUT',
    `${target.pathname}${target.search}`,
    { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
  );
  if (put.status !== 201) throw new Error(`upload ${digest} to ${name}: ${put.status} ${put.body}`);
}

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(base: string, method: string, path: string, headers: Record<string, string>, body?: Readable): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        if (text.length < 2000) text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end();
  });
}
