import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RegistryView } from '@vreg/contracts';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP1 = 'http://one.test';
const UP2 = 'http://two.test';
const registries: RegistryView[] = [
  { id: '1', name: 'one', upstreams: [{ id: '10', name: 'one', url: UP1, position: 0, cacheValidityHours: 24 }] },
  { id: '2', name: 'two', upstreams: [{ id: '20', name: 'two', url: UP2, position: 0, cacheValidityHours: 24 }] },
];
const blobPath = (registryId: string, digest: string): string =>
  `/v2/virtual_registries/containers/${registryId}/library/x/blobs/${digest}`;

type Harness = Awaited<ReturnType<typeof gatewayHarness>>;

/** Holds the bodies of `digest` after their first chunk until `release()`: fills that stay open as long as the test needs. */
function holdBodiesOf(h: Harness, digest: string): { release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const getBlob = h.upstream.getBlob.bind(h.upstream);
  h.upstream.getBlob = (async (target, image, asked) => {
    const res = await getBlob(target, image, asked);
    if (res === undefined || asked !== digest) return res;
    const source = res.body;
    async function* held(): AsyncGenerator<Buffer> {
      let first = true;
      for await (const chunk of source) {
        yield chunk as Buffer;
        if (first) await gate;
        first = false;
      }
    }
    return { ...res, body: Readable.from(held()) };
  }) as UpstreamRegistry['getBlob'];
  return { release };
}

const until = async (what: string, check: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the per-upstream limit on running blob fills (VREG_UPSTREAM_MAX_CONCURRENT_FILLS)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('answers a miss past the limit 503 UNAVAILABLE with Retry-After, without asking the upstream, and serves it once a fill ended', async () => {
    h = await gatewayHarness(registries, { VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '1' });
    const running = h.upstream.addBlob(UP1, 'library/x', randomBytes(300_000));
    const next = h.upstream.addBlob(UP1, 'library/x', randomBytes(1000));
    const held = holdBodiesOf(h, running);
    const first = h.server.inject({ method: 'GET', url: blobPath('1', running) });
    await until('the first fill to start', () => h.upstream.count(`GET blob ${running}`) === 1);
    // A second client of the same blob shares the running fill: it needs no slot of its own.
    const joined = h.server.inject({ method: 'GET', url: blobPath('1', running) });

    const refused = await h.server.inject({ method: 'GET', url: blobPath('1', next) });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().errors[0]).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('VREG_UPSTREAM_MAX_CONCURRENT_FILLS'),
    });
    expect(h.upstream.count(`GET blob ${next}`)).toBe(0);

    held.release();
    expect((await first).statusCode).toBe(200);
    expect((await joined).statusCode).toBe(200);
    expect(h.upstream.count(`GET blob ${running}`)).toBe(1);
    const served = await h.server.inject({ method: 'GET', url: blobPath('1', next) });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.length).toBe(1000);
  });

  it('serves a blob already stored while its upstream is full: the stored bytes need no download', async () => {
    h = await gatewayHarness(registries, { VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '1' });
    const bytes = randomBytes(1000);
    const shared = h.upstream.addBlob(UP1, 'library/x', bytes);
    h.upstream.addBlob(UP2, 'library/x', bytes);
    expect((await h.server.inject({ method: 'GET', url: blobPath('1', shared) })).statusCode).toBe(200);
    const running = h.upstream.addBlob(UP2, 'library/x', randomBytes(300_000));
    const held = holdBodiesOf(h, running);
    const fill = h.server.inject({ method: 'GET', url: blobPath('2', running) });
    await until('the fill on upstream two to start', () => h.upstream.count(`GET blob ${running}`) === 1);

    const res = await h.server.inject({ method: 'GET', url: blobPath('2', shared) });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(bytes)).toBe(true);
    // Registry two's upstream confirmed it has the blob (a HEAD); the bytes came from the store.
    expect(h.upstream.count(`GET blob ${shared}`)).toBe(1);
    // Upstream one has its own slots: upstream two's full house does not refuse it.
    const other = h.upstream.addBlob(UP1, 'library/x', randomBytes(500));
    expect((await h.server.inject({ method: 'GET', url: blobPath('1', other) })).statusCode).toBe(200);

    held.release();
    expect((await fill).statusCode).toBe(200);
  });
});
