import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamErrorCode, UpstreamRateLimitedError } from './errors.ts';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import { DEFAULT_MANIFEST_ACCEPT, ManifestMediaType } from './media-types.ts';
import type { FakeHttpServer } from './testing/fake-http-server.ts';
import { sendJson, startFakeHttpServer } from './testing/fake-http-server.ts';
import { UpstreamAddressPolicy } from './upstream-address-policy.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

let upstream: FakeHttpServer;
let client: HttpUpstreamRegistry;

beforeEach(async () => {
  upstream = await startFakeHttpServer();
  client = new HttpUpstreamRegistry({
    bodyIdleTimeoutMs: 300,
    headersTimeoutMs: 2000,
    addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']),
  });
});
afterEach(async () => {
  await client.close();
  await upstream.close();
});

describe('HttpUpstreamRegistry results', () => {
  it('streams a manifest with its metadata and sends the default Accept list', async () => {
    const digest = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
    upstream.handle((_req, res) => {
      res.writeHead(200, {
        'content-type': ManifestMediaType.OciManifest,
        'content-length': String(MANIFEST.length),
        'docker-content-digest': digest,
        etag: `"${digest}"`,
        'set-cookie': 'session=1',
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '99;w=21600',
      });
      res.end(MANIFEST);
    });
    const res = await client.getManifest({ url: `${upstream.url}/` }, 'library/alpine', 'latest');
    expect(res).toMatchObject({
      status: 200,
      contentType: ManifestMediaType.OciManifest,
      contentLength: MANIFEST.length,
      dockerContentDigest: digest,
      etag: `"${digest}"`,
    });
    expect(res?.headers['ratelimit-remaining']).toBe('99;w=21600');
    expect(res?.headers['set-cookie']).toBeUndefined();
    expect(await readAll(res!.body)).toEqual(MANIFEST);
    const sent = upstream.requests[0]!;
    expect(sent.url).toBe('/v2/library/alpine/manifests/latest');
    expect(sent.headers.accept).toBe(DEFAULT_MANIFEST_ACCEPT.join(', '));
    expect(sent.headers['user-agent']).toBe('vreg/0.1');
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('keeps a path prefix of the upstream url, and asks HEADs with every current manifest type too, never schema 1', async () => {
    upstream.handle((_req, res) => res.writeHead(200, { 'content-type': 'x' }).end());
    await client.headManifest({ url: `${upstream.url}/mirror/hub` }, 'alpine', DIGEST);
    expect(upstream.requests[0]).toMatchObject({ method: 'HEAD', url: `/mirror/hub/v2/alpine/manifests/${DIGEST}` });
    expect(upstream.requests[0]?.headers.accept).toBe(
      'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, ' +
        'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
    );
    expect(upstream.requests[0]?.headers.accept).not.toContain('distribution.manifest.v1');
  });

  it('asks for one-component names under library/ when the upstream wants it (Docker Hub), and only then', async () => {
    upstream.handle((_req, res) => res.writeHead(200, { 'content-type': 'x' }).end());
    await client.headManifest({ url: upstream.url, libraryPrefix: true }, 'alpine', 'latest');
    await client.headBlob({ url: upstream.url, libraryPrefix: true }, 'team/app', DIGEST);
    await client.headManifest({ url: upstream.url }, 'alpine', 'latest');
    expect(upstream.requests.map((r) => r.url)).toEqual([
      '/v2/library/alpine/manifests/latest',
      `/v2/team/app/blobs/${DIGEST}`,
      '/v2/alpine/manifests/latest',
    ]);
  });

  it('answers undefined for 404 on every method', async () => {
    upstream.handle((_req, res) => sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] }));
    const t = { url: upstream.url };
    expect(await client.getManifest(t, 'a/b', 'latest')).toBeUndefined();
    expect(await client.headManifest(t, 'a/b', 'latest')).toBeUndefined();
    expect(await client.getBlob(t, 'a/b', DIGEST)).toBeUndefined();
    expect(await client.headBlob(t, 'a/b', DIGEST)).toBeUndefined();
  });

  it('returns blob metadata from HEAD and a ranged body from GET', async () => {
    upstream.handle((req, res) => {
      if (req.headers.range === 'bytes=2-4') res.writeHead(206, { 'content-range': 'bytes 2-4/10', 'content-length': '3' }).end('234');
      else
        res
          .writeHead(200, { 'content-length': '10', 'docker-content-digest': DIGEST })
          .end(req.method === 'HEAD' ? undefined : '0123456789');
    });
    const t = { url: upstream.url };
    expect(await client.headBlob(t, 'a/b', DIGEST)).toMatchObject({ contentLength: 10, dockerContentDigest: DIGEST });
    const ranged = await client.getBlob(t, 'a/b', DIGEST, { range: { start: 2, end: 4 } });
    expect(ranged?.status).toBe(206);
    expect((await readAll(ranged!.body)).toString()).toBe('234');
    const open = await client.getBlob(t, 'a/b', DIGEST, { range: { start: 8 } });
    expect(upstream.requests.at(-1)?.headers.range).toBe('bytes=8-');
    expect(open?.status).toBe(200); // this upstream ignores open ranges: the caller sees 200
    await readAll(open!.body);
  });

  it('throws UPSTREAM_RATE_LIMITED with Retry-After seconds on 429', async () => {
    upstream.handle((_req, res) => sendJson(res, 429, { errors: [{ code: 'TOOMANYREQUESTS' }] }, { 'retry-after': '7' }));
    const err = await client.getManifest({ url: upstream.url }, 'a/b', 'latest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamRateLimitedError);
    expect(err).toMatchObject({ code: UpstreamErrorCode.RateLimited, status: 429, retryAfterSeconds: 7 });
  });

  it('throws UPSTREAM_UNAVAILABLE with the status on 500 and on an unexpected status', async () => {
    upstream.handle((_req, res) => sendJson(res, 500, {}));
    await expect(client.getBlob({ url: upstream.url }, 'a/b', DIGEST)).rejects.toMatchObject({
      code: UpstreamErrorCode.Unavailable,
      status: 500,
    });
    upstream.handle((_req, res) => sendJson(res, 418, {}));
    await expect(client.headBlob({ url: upstream.url }, 'a/b', DIGEST)).rejects.toMatchObject({
      code: UpstreamErrorCode.Unavailable,
      status: 418,
    });
  });

  it('throws UPSTREAM_UNAVAILABLE when the connection is refused', async () => {
    const gone = await startFakeHttpServer();
    await gone.close();
    const err = await client.getManifest({ url: gone.url }, 'a/b', 'latest').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: UpstreamErrorCode.Unavailable, status: undefined });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('throws UPSTREAM_UNAVAILABLE when the headers do not come in time', async () => {
    const slow = new HttpUpstreamRegistry({ headersTimeoutMs: 200, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
    upstream.handle(() => undefined); // never answers
    await expect(slow.getManifest({ url: upstream.url }, 'a/b', 'latest')).rejects.toMatchObject({ code: UpstreamErrorCode.Unavailable });
    await slow.close();
  });

  it('errors the body with UPSTREAM_UNAVAILABLE when the upstream stalls mid-body', async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('0123456789'); // then silence
    });
    const res = await client.getBlob({ url: upstream.url }, 'a/b', DIGEST);
    await expect(readAll(res!.body)).rejects.toMatchObject({ code: UpstreamErrorCode.Unavailable });
  });

  it('does not time out while the caller is slow to read (backpressure)', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const total = 32;
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { 'content-length': String(chunk.length * total) });
      for (let i = 0; i < total; i++) if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      res.end();
    });
    const res = await client.getBlob({ url: upstream.url }, 'a/b', DIGEST);
    let bytes = 0;
    for await (const piece of res!.body as AsyncIterable<Buffer>) {
      if (bytes === 0) await new Promise((resolve) => setTimeout(resolve, 1500)); // 5× the idle timeout
      bytes += piece.length;
    }
    expect(bytes).toBe(chunk.length * total);
  });

  it('rejects with the abort reason when the caller aborts before the response', async () => {
    upstream.handle(() => undefined);
    const controller = new AbortController();
    const pending = client.getManifest({ url: upstream.url }, 'a/b', 'latest', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('destroys the body with the abort reason when the caller aborts mid-body', async () => {
    const slow = new HttpUpstreamRegistry({ bodyIdleTimeoutMs: 10_000, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('0123456789');
    });
    const controller = new AbortController();
    const res = await slow.getBlob({ url: upstream.url }, 'a/b', DIGEST, { signal: controller.signal });
    const reading = readAll(res!.body);
    setTimeout(() => controller.abort(), 50);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await slow.close();
  });

  it('refuses malformed names and references without sending anything', async () => {
    const t = { url: upstream.url };
    await expect(client.getManifest(t, '../admin', 'latest')).rejects.toBeInstanceOf(TypeError);
    await expect(client.getManifest(t, 'a/b', 'latest?x=1')).rejects.toBeInstanceOf(TypeError);
    await expect(client.getBlob(t, 'a/b', 'latest')).rejects.toBeInstanceOf(TypeError);
    await expect(client.getBlob(t, 'a/b', DIGEST, { range: { start: 5, end: 2 } })).rejects.toBeInstanceOf(RangeError);
    await expect(client.getBlob({ url: 'ftp://x' }, 'a/b', DIGEST)).rejects.toBeInstanceOf(TypeError);
    expect(upstream.requests).toHaveLength(0);
  });
});
