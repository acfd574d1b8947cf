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
const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tag freshness and upstream trouble', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('serves a tag inside its validity window without touching the upstream', async () => {
    h = await gatewayHarness(registry(24));
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2,"v":1}'), OCI_INDEX);
    await h.server.inject({ method: 'GET', url });
    await settle();
    h.upstream.calls.length = 0;
    for (let i = 0; i < 3; i++) expect((await h.server.inject({ method: 'GET', url })).headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.calls).toEqual([]);
  });

  it('revalidates an expired tag with one HEAD and serves the new manifest when the tag moved', async () => {
    h = await gatewayHarness(registry(0.0002)); // 0.72 s
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"schemaVersion":2,"v":1}'), OCI_INDEX);
    await h.server.inject({ method: 'GET', url });
    await settle(900);
    h.upstream.calls.length = 0;
    const same = await h.server.inject({ method: 'GET', url });
    expect(same.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.calls).toEqual(['HEAD manifest library/x:latest']);
    await settle(900);
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
    await settle(900);
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

  it('forwards the client Accept and never serves a type the client did not accept', async () => {
    h = await gatewayHarness(registry(24));
    h.upstream.addManifest(UP, 'library/x', 'latest', Buffer.from('{"index":true}'), OCI_INDEX);
    const first = await h.server.inject({ method: 'GET', url, headers: { accept: `${OCI_INDEX}, ${DOCKER_V2}` } });
    expect(first.headers['content-type']).toBe(OCI_INDEX);
    await settle();
    const narrow = await h.server.inject({ method: 'GET', url, headers: { accept: DOCKER_V2 } });
    expect(narrow.statusCode).toBe(404);
    expect(narrow.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
    expect(h.upstream.acceptsSeen.at(-1)).toEqual([DOCKER_V2]);
  });
});
