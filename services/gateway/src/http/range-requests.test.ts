import { randomBytes } from 'node:crypto';
import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'one', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
];

describe('range requests on blobs', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  async function setup(): Promise<{ url: string; blob: Buffer; stored: () => Promise<void> }> {
    h = await gatewayHarness(registries);
    const blob = randomBytes(500_000);
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    // The fill outlives the ranged response: it is done once the blob is recorded.
    return {
      url: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}`,
      blob,
      stored: () => h.recorded(`library/x/blobs/${digest}`),
    };
  }

  it('answers 206 with the exact bytes on a miss, filling the whole blob once', async () => {
    const { url, blob, stored } = await setup();
    const res = await h.server.inject({ method: 'GET', url, headers: { range: 'bytes=100-199' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 100-199/${blob.length}`);
    expect(res.headers['content-length']).toBe('100');
    expect(res.rawPayload.equals(blob.subarray(100, 200))).toBe(true);
    await stored();
    expect(await h.store.stat(res.headers['docker-content-digest'] as string)).toEqual({ size: blob.length });
  });

  it('answers 206 with the exact bytes on a hit, for bounded, open and suffix ranges', async () => {
    const { url, blob, stored } = await setup();
    await h.server.inject({ method: 'GET', url });
    await stored();
    for (const [header, from, to] of [
      ['bytes=0-0', 0, 1],
      ['bytes=499990-', 499_990, 500_000],
      ['bytes=-10', 499_990, 500_000],
      ['bytes=1000-999999999', 1000, 500_000],
    ] as const) {
      const res = await h.server.inject({ method: 'GET', url, headers: { range: header } });
      expect(res.statusCode, header).toBe(206);
      expect(res.headers['x-vreg-cache']).toBe('hit');
      expect(res.headers['content-range']).toBe(`bytes ${from}-${to - 1}/${blob.length}`);
      expect(res.rawPayload.equals(blob.subarray(from, to)), header).toBe(true);
    }
    expect(h.upstream.count('GET blob')).toBe(1);
  });

  it('answers 416 RANGE_INVALID with the size for ranges outside the blob or malformed', async () => {
    const { url, blob, stored } = await setup();
    await h.server.inject({ method: 'GET', url });
    await stored();
    const outside = await h.server.inject({ method: 'GET', url, headers: { range: `bytes=${blob.length}-` } });
    expect(outside.statusCode).toBe(416);
    expect(outside.json().errors[0].code).toBe('RANGE_INVALID');
    expect(outside.headers['content-range']).toBe(`bytes */${blob.length}`);
    const malformed = await h.server.inject({ method: 'GET', url, headers: { range: 'bytes=9-2' } });
    expect(malformed.statusCode).toBe(416);
  });

  it('serves the whole blob for several ranges or another unit', async () => {
    const { url, blob } = await setup();
    const res = await h.server.inject({ method: 'GET', url, headers: { range: 'bytes=0-1,5-6' } });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(blob.length);
  });
});
