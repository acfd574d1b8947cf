import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../support/admin-client.ts';
import { distributedEnv } from '../support/distributed-env.ts';
import { testEnv } from '../support/test-env.ts';
import { waitFor } from '../support/wait.ts';
import { type BundleProcess, buildBundle, startBundle, stopBundle } from './bundle.ts';

// What the image runs, in distributed mode: the bundles `npm run build` makes
// (the image's /app), one process each, on the test environment's NATS,
// MongoDB-wire server and S3, started as the entry point starts them.

interface Layer {
  digest: string;
  size: number;
}

let bundle: { dir: string; remove: () => Promise<void> };
let env: Record<string, string>;
let catalog: BundleProcess;
let fetcher: BundleProcess;
let gateway: BundleProcess;
let registryId: string;
let s3: S3Client;

/** Headers for a pull as registry clients make it: on a 401 challenge, an (anonymous) token from its realm. */
async function pullHeaders(url: string, accept: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = { accept };
  // Probe /v2/, not the object itself: a HEAD of the object would already fill it.
  const res = await fetch(new URL('/v2/', url));
  if (res.status !== 401) return headers;
  const challenge = res.headers.get('www-authenticate') ?? '';
  const param = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
  const scope = param('scope') || `repository:${new URL(url).pathname.split('/').slice(2, -2).join('/')}:pull`;
  const tokenRes = await fetch(`${param('realm')}?service=${encodeURIComponent(param('service'))}&scope=${encodeURIComponent(scope)}`);
  const { token } = (await tokenRes.json()) as { token: string };
  return { ...headers, authorization: `Bearer ${token}` };
}

function bigLayer(): Layer {
  const image = testEnv().seeded.find((i) => i.name === 'library/bigimage');
  const layers = ((image?.layers ?? []) as Layer[]).slice().sort((a, b) => b.size - a.size);
  if (!layers[0]) throw new Error('the test environment seeded no library/bigimage');
  return layers[0];
}

beforeAll(async () => {
  const t = testEnv();
  const id = randomBytes(4).toString('hex');
  const bucket = `vreg-bundle-${id}`;
  s3 = new S3Client({
    endpoint: t.s3.endpoint,
    region: t.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.s3.accessKeyId, secretAccessKey: t.s3.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  bundle = await buildBundle();
  env = distributedEnv(t, { namespace: `b${id}`, db: `vreg_bundle_${id}`, bucket });
  catalog = await startBundle(bundle.dir, 'catalog', env);
  fetcher = await startBundle(bundle.dir, 'fetcher', env);
  gateway = await startBundle(bundle.dir, 'gateway', env);
  const admin = new AdminClient(catalog.url, env.VREG_ADMIN_TOKEN ?? '');
  registryId = (await admin.createRegistry(`bundle-${id}`)).id;
  await admin.addUpstream(registryId, { name: 'a', url: t.upstreamA });
}, 240_000);

afterAll(async () => {
  for (const p of [gateway, fetcher, catalog]) if (p) await stopBundle(p);
  await bundle?.remove();
  s3?.destroy();
});

describe('the bundled services in distributed mode', () => {
  it('pull a manifest through the gateway: a miss, then a hit', async () => {
    const url = `${gateway.url}/v2/virtual_registries/containers/${registryId}/library/busybox/manifests/latest`;
    const headers = await pullHeaders(url, 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json');
    const first = await fetch(url, { headers });
    expect(first.status).toBe(200);
    const body = Buffer.from(await first.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(first.headers.get('docker-content-digest'));
    expect(first.headers.get('x-vreg-cache')).toBe('miss');
    // The miss is answered once verified and stored behind the answer: a request meanwhile joins that fill (a miss too).
    const second = await waitFor(
      'the manifest served as a hit',
      async () => {
        const res = await fetch(url, { headers });
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.equals(body)).toBe(true);
        return res.headers.get('x-vreg-cache') === 'hit' ? res : undefined;
      },
      30_000,
    );
    expect(second.status).toBe(200);
  });

  it('finish a pull in flight when the gateway gets SIGTERM, then exit 0', async () => {
    const layer = bigLayer();
    const url = `${gateway.url}/v2/virtual_registries/containers/${registryId}/library/bigimage/blobs/${layer.digest}`;
    const headers = await pullHeaders(url, '*/*');
    const result = await new Promise<{ status: number; bytes: number; digest: string; complete: boolean }>((resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let signalled = false;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
          if (!signalled) {
            // Mid-stream: stop reading, SIGTERM the gateway, read on a while later.
            signalled = true;
            res.pause();
            gateway.child.kill('SIGTERM');
            setTimeout(() => res.resume(), 1500);
          }
        });
        res.on('error', reject);
        res.on('close', () =>
          resolve({ status: res.statusCode ?? 0, bytes, digest: `sha256:${hash.digest('hex')}`, complete: res.complete }),
        );
      });
      req.on('error', reject);
      req.end();
    });
    expect(result.status).toBe(200);
    expect(result.complete).toBe(true);
    expect(result.bytes).toBe(layer.size);
    expect(result.digest).toBe(layer.digest);
    expect(await Promise.race([gateway.exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000))])).toBe(0);
  });

  it('stop the fetcher and the catalog with exit 0 on SIGTERM', async () => {
    expect(await stopBundle(fetcher)).toBe(0);
    expect(await stopBundle(catalog)).toBe(0);
  });
});
