import { createHash, randomBytes } from 'node:crypto';
import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'one', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
  {
    id: '2',
    name: 'two',
    upstreams: [
      { id: '20', name: 'empty', url: 'http://empty.test', position: 0, cacheValidityHours: 24 },
      { id: '21', name: 'a', url: UP, position: 1, cacheValidityHours: 24 },
    ],
  },
];
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('the pull API', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('serves a manifest miss byte-exact and the next pull from the cache without asking the upstream', async () => {
    h = await gatewayHarness(registries);
    const manifest = Buffer.from('{"schemaVersion":2,  "mediaType":"application/vnd.oci.image.manifest.v1+json"}\n');
    const digest = h.upstream.addManifest(UP, 'team/app/api', '1.0', manifest, OCI_MANIFEST);
    const url = '/v2/virtual_registries/containers/1/team/app/api/manifests/1.0';
    const first = await h.server.inject({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    expect(first.rawPayload.equals(manifest)).toBe(true);
    expect(first.headers['docker-content-digest']).toBe(digest);
    expect(first.headers['content-type']).toBe(OCI_MANIFEST);
    expect(first.headers['content-length']).toBe(String(manifest.length));
    expect(first.headers['x-vreg-cache']).toBe('miss');
    await h.recorded('team/app/api/manifests/1.0');
    const second = await h.server.inject({ method: 'GET', url });
    expect(second.headers['x-vreg-cache']).toBe('hit');
    expect(second.rawPayload.equals(manifest)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
    const byDigest = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/team/app/api/manifests/${digest}` });
    expect(byDigest.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('streams a blob miss, stores it once, and serves it from the store afterwards', async () => {
    h = await gatewayHarness(registries);
    const blob = randomBytes(3 << 20);
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    const url = `/v2/virtual_registries/containers/1/library/x/blobs/${digest}`;
    const first = await h.server.inject({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    expect(sha(first.rawPayload)).toBe(digest);
    expect(first.headers['content-length']).toBe(String(blob.length));
    // The fill commits after the client got the last byte: the next pull is a hit once the blob is recorded.
    await h.recorded(`library/x/blobs/${digest}`);
    const second = await h.server.inject({ method: 'GET', url });
    expect(second.headers['x-vreg-cache']).toBe('hit');
    expect(sha(second.rawPayload)).toBe(digest);
    expect(h.upstream.count('GET blob')).toBe(1);
    expect(await h.store.stat(digest)).toEqual({ size: blob.length });
  });

  it('answers HEAD with digest, length and type and without a body or a download', async () => {
    h = await gatewayHarness(registries);
    const blob = randomBytes(1000);
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    const res = await h.server.inject({ method: 'HEAD', url: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(digest);
    expect(res.headers['content-length']).toBe('1000');
    expect(res.rawPayload.length).toBe(0);
    expect(h.upstream.count('GET blob')).toBe(0);
  });

  it('tries the next upstream when the first does not have the object', async () => {
    h = await gatewayHarness(registries);
    const blob = randomBytes(100);
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    const res = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/2/library/x/blobs/${digest}` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(blob)).toBe(true);
  });

  it('cuts the response and stores nothing when the upstream sends bytes that do not match the digest', async () => {
    h = await gatewayHarness(registries);
    const good = randomBytes(256 * 1024);
    const bad = Buffer.from(good);
    bad[0] = (bad[0]! + 1) % 256;
    const digest = h.upstream.addBlob(UP, 'library/x', good, bad);
    const res = await h.server
      .inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}` })
      .catch((err: Error) => err);
    if (!(res instanceof Error)) expect(res.rawPayload.length).toBeLessThan(good.length);
    await new Promise((r) => setTimeout(r, 50));
    expect(await h.store.stat(digest)).toBeUndefined();
    expect([...h.entries.values()].some((e) => e.digest === digest)).toBe(false);
  });

  it('shares one upstream request between concurrent misses of the same manifest', async () => {
    h = await gatewayHarness(registries);
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2}'), OCI_MANIFEST);
    const url = '/v2/virtual_registries/containers/1/library/x/manifests/latest';
    const all = await Promise.all(Array.from({ length: 5 }, () => h.server.inject({ method: 'GET', url })));
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it.each([
    ['/v2/virtual_registries/containers/1/library/none/manifests/latest', 404, 'MANIFEST_UNKNOWN'],
    [`/v2/virtual_registries/containers/1/library/none/blobs/sha256:${'1'.repeat(64)}`, 404, 'BLOB_UNKNOWN'],
    ['/v2/virtual_registries/containers/3/library/x/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/virtual_registries/containers/0/library/x/manifests/latest', 400, 'NAME_INVALID'],
    ['/v2/virtual_registries/containers/1/UPPER/manifests/latest', 400, 'NAME_INVALID'],
    ['/v2/virtual_registries/containers/1/a/%2e%2e/manifests/latest', 400, 'NAME_INVALID'],
    ['/v2/virtual_registries/containers/1/library/x/blobs/sha256:123', 400, 'DIGEST_INVALID'],
    ['/v2/virtual_registries/containers/1/library/none/tags/list', 404, 'NAME_UNKNOWN'],
    ['/v2/anything/else', 404, 'NAME_UNKNOWN'],
  ])('answers GET %s with %i %s', async (url, status, code) => {
    h = await gatewayHarness(registries);
    const res = await h.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expect(res.json().errors[0].code).toBe(code);
  });

  it('refuses pushes with UNSUPPORTED', async () => {
    h = await gatewayHarness(registries);
    for (const [method, url] of [
      ['POST', '/v2/virtual_registries/containers/1/library/x/blobs/uploads/'],
      ['PUT', '/v2/virtual_registries/containers/1/library/x/manifests/latest'],
      ['DELETE', '/v2/virtual_registries/containers/1/library/x/manifests/latest'],
    ] as const) {
      const res = await h.server.inject({ method, url });
      expect(res.statusCode).toBe(405);
      expect(res.json().errors[0].code).toBe('UNSUPPORTED');
    }
  });

  it('never serves a manifest entry recorded under a type no manifest has (by an older vreg): fetches it again, checked', async () => {
    h = await gatewayHarness(registries);
    const html = Buffer.from('<html><script>alert(document.domain)</script></html>');
    const writer = await h.store.beginWrite(sha(html));
    writer.stream.end(html);
    await writer.commit();
    h.entries.set('10|team/app/web/manifests/1.0', {
      upstreamId: '10',
      relativePath: 'team/app/web/manifests/1.0',
      digest: sha(html),
      contentType: 'text/html',
      size: html.length,
      upstreamCheckedAt: new Date().toISOString(),
    });
    const manifest = Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}"}`);
    h.upstream.addManifest(UP, 'team/app/web', '1.0', manifest, OCI_MANIFEST);
    const res = await h.server.inject({ method: 'GET', url: '/v2/virtual_registries/containers/1/team/app/web/manifests/1.0' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(OCI_MANIFEST);
    expect(res.rawPayload.equals(manifest)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('serves blobs as application/octet-stream whatever the upstream called them, on a miss, a hit and a HEAD', async () => {
    h = await gatewayHarness(registries);
    const html = Buffer.from('<html><script>alert(document.domain)</script></html>');
    const digest = h.upstream.addBlob(UP, 'library/x', html);
    h.upstream.blobs.get(`${UP}|library/x|${digest}`)!.contentType = 'text/html';
    const url = `/v2/virtual_registries/containers/1/library/x/blobs/${digest}`;
    for (const method of ['HEAD', 'GET', 'GET', 'HEAD'] as const) {
      const res = await h.server.inject({ method, url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
