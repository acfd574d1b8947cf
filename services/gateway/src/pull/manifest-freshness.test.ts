import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const registry = (hours: number): RegistryView[] => [
  {
    id: '1',
    name: 'one',
    visibility: 'public',
    upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: hours }],
  } as RegistryView,
];
const url = '/v2/virtual_registries/containers/1/library/x/manifests/latest';
/** Past the 0.72 s validity window of `registry(0.0002)`: a slow machine only waits longer. */
const pastValidity = (): Promise<void> => new Promise((r) => setTimeout(r, 900));

describe('tag freshness and upstream trouble', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('serves a tag inside its validity window without touching the upstream', async () => {
    h = await gatewayHarness(registry(24));
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2,"v":1}'), OCI_INDEX);
    await h.server.inject({ method: 'GET', url });
    await h.recorded('library/x/manifests/latest');
    h.upstream.calls.length = 0;
    for (let i = 0; i < 3; i++) expect((await h.server.inject({ method: 'GET', url })).headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.calls).toEqual([]);
  });

  it('revalidates an expired tag with one HEAD and serves the new manifest when the tag moved', async () => {
    h = await gatewayHarness(registry(0.0002)); // 0.72 s
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2,"v":1}'), OCI_INDEX);
    await h.server.inject({ method: 'GET', url });
    await pastValidity();
    h.upstream.calls.length = 0;
    const same = await h.server.inject({ method: 'GET', url });
    expect(same.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.calls).toEqual(['HEAD manifest library/x:latest']);
    await pastValidity();
    const moved = Buffer.from('{"schemaVersion":2,"v":2}');
    const newDigest = h.upstream.addManifest(UP, 'library/x', 'latest', moved, OCI_INDEX);
    const res = await h.server.inject({ method: 'GET', url });
    expect(res.headers['docker-content-digest']).toBe(newDigest);
    expect(res.rawPayload.equals(moved)).toBe(true);
  });

  it('serves the cached tag marked stale when the upstream fails to revalidate', async () => {
    h = await gatewayHarness(registry(0.0002));
    const bytes = Buffer.from('{"schemaVersion":2,"v":1}');
    h.upstream.addManifest(UP, 'library/x', 'latest', bytes, OCI_INDEX);
    await h.server.inject({ method: 'GET', url });
    await pastValidity();
    h.upstream.failWith = Object.assign(new Error('rate limited'), { code: 'UPSTREAM_RATE_LIMITED', retryAfterSeconds: 60 });
    const res = await h.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-vreg-cache']).toBe('stale');
    expect(res.rawPayload.equals(bytes)).toBe(true);
  });

  it('answers TOOMANYREQUESTS with Retry-After when the upstream rate-limits and nothing is cached', async () => {
    h = await gatewayHarness(registry(24));
    h.upstream.failWith = Object.assign(new Error('rate limited'), { code: 'UPSTREAM_RATE_LIMITED', retryAfterSeconds: 42 });
    const res = await h.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(429);
    expect(res.json().errors[0].code).toBe('TOOMANYREQUESTS');
    expect(res.headers['retry-after']).toBe('42');
  });

  it('remembers an unknown tag for a while instead of asking the upstream again', async () => {
    h = await gatewayHarness(registry(24));
    for (let i = 0; i < 5; i++) expect((await h.server.inject({ method: 'GET', url })).statusCode).toBe(404);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });
});

describe('manifest negotiation', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());
  const OCI_ONLY = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';

  it('serves a manifest by digest whatever the Accept, cached or not (content addressing)', async () => {
    h = await gatewayHarness(registry(24));
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}');
    const digest = h.upstream.addManifest(UP, 'library/x', 'latest', bytes, DOCKER_V2);
    const byDigest = `/v2/virtual_registries/containers/1/library/x/manifests/${digest}`;
    for (const cache of ['miss', 'hit']) {
      const res = await h.server.inject({ method: 'GET', url: byDigest, headers: { accept: OCI_ONLY } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers).toMatchObject({ 'content-type': DOCKER_V2, 'docker-content-digest': digest, 'x-vreg-cache': cache });
      expect(res.rawPayload.equals(bytes)).toBe(true);
      await h.recorded(`library/x/manifests/${digest}`);
    }
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('serves a tag’s only form with its real Content-Type to a client whose Accept leaves it out, from one cache entry', async () => {
    h = await gatewayHarness(registry(24));
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","v":1}');
    const digest = h.upstream.addManifest(UP, 'library/x', 'latest', bytes, DOCKER_V2);
    const narrow = await h.server.inject({ method: 'GET', url, headers: { accept: OCI_ONLY } });
    expect(narrow.statusCode, narrow.body).toBe(200);
    expect(narrow.headers).toMatchObject({ 'content-type': DOCKER_V2, 'docker-content-digest': digest });
    await h.recorded('library/x/manifests/latest');
    for (const accept of [DOCKER_V2, OCI_INDEX, OCI_ONLY, '*/*']) {
      const res = await h.server.inject({ method: 'HEAD', url, headers: { accept } });
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({ 'content-type': DOCKER_V2, 'docker-content-digest': digest, 'x-vreg-cache': 'hit' });
    }
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('revalidates an expired tag for a narrow Accept with one HEAD and keeps the cached manifest', async () => {
    h = await gatewayHarness(registry(0.0002)); // 0.72 s
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2,"v":2}'), DOCKER_V2);
    await h.server.inject({ method: 'GET', url, headers: { accept: OCI_ONLY } });
    await pastValidity();
    h.upstream.calls.length = 0;
    const res = await h.server.inject({ method: 'GET', url, headers: { accept: OCI_ONLY } });
    expect(res.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.calls).toEqual(['HEAD manifest library/x:latest']);
  });

  it('refuses a Docker schema 1 manifest from the upstream with 404 MANIFEST_UNKNOWN saying why, by tag and by digest, never a 5xx', async () => {
    h = await gatewayHarness(registry(24));
    const signed = Buffer.from('{"schemaVersion":1,"name":"library/old","tag":"v1","fsLayers":[],"signatures":[]}');
    const digest = h.upstream.addManifest(UP, 'library/old', 'v1', signed, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    h.upstream.addManifest(UP, 'library/plain', 'v1', Buffer.from('{"schemaVersion": 1, "fsLayers": []}'), 'application/json');
    for (const ref of ['library/old/manifests/v1', `library/old/manifests/${digest}`, 'library/plain/manifests/v1']) {
      const res = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/${ref}` });
      expect(res.statusCode, ref).toBe(404);
      expect(res.json().errors[0]).toMatchObject({
        code: 'MANIFEST_UNKNOWN',
        message: 'the upstream has this manifest only as Docker schema 1, which vreg does not serve: push it as schema 2 or OCI',
      });
    }
    expect(h.store.size).toBe(0);
  });
});
