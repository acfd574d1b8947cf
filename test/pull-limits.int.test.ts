import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { testEnv } from './support/test-env.ts';

interface SeededLayer {
  digest: string;
  size: number;
}

describe('pull API limits over real HTTP (embedded vreg)', () => {
  const env = testEnv();
  let vreg: (VregUnderTest & { dataDir: string }) | undefined;
  afterEach(async () => {
    await vreg?.stop();
    vreg = undefined;
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After past VREG_PULL_RATE_LIMIT, whatever X-Forwarded-For claims', async () => {
    vreg = await startEmbeddedUnderTest({ VREG_PULL_RATE_LIMIT: '10', VREG_PULL_RATE_WINDOW_MS: '3600000' });
    const statuses: number[] = [];
    // A client cannot spread itself over invented addresses: without VREG_TRUST_PROXY the header is ignored.
    for (let i = 0; i < 10; i++)
      statuses.push((await fetch(`${vreg.gatewayUrl}/v2/`, { headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status);
    expect(statuses.every((s) => s === 200 || s === 401)).toBe(true);
    const refused = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/1/library/busybox/manifests/latest`, {
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('TOOMANYREQUESTS');
    // The admin API is not the pull API: it stays reachable.
    expect((await vreg.admin.call('GET', '/registries')).status).toBe(200);
  });

  it("refuses a blob past its upstream's max_blob_size_bytes with 403 DENIED and stores nothing", async () => {
    vreg = await startEmbeddedUnderTest();
    const image = env.seeded.find((i) => Array.isArray(i.layers) && (i.layers as SeededLayer[]).some((l) => l.size > 1024))!;
    const layer = (image.layers as SeededLayer[]).find((l) => l.size > 1024)!;
    const { id } = await vreg.admin.createRegistry('capped', { visibility: 'public' });
    const created = await vreg.admin.call<{ max_blob_size_bytes: number }>('POST', `/registries/${id}/upstreams`, {
      name: 'a',
      url: env.upstreamA,
      max_blob_size_bytes: 1024,
    });
    expect(created.status).toBe(201);
    expect(created.body.max_blob_size_bytes).toBe(1024);
    const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/${image.name}/blobs/${layer.digest}`);
    expect(res.status).toBe(403);
    const error = ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors[0];
    expect(error).toMatchObject({ code: 'DENIED', message: expect.stringContaining('1024 bytes') });
    await new Promise((r) => setTimeout(r, 500)); // the fetcher had its chance to (wrongly) fill it
    expect(await vreg.storedDigests()).not.toContain(layer.digest);
  });
});
