import { afterAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest, stopService } from './support/distributed-under-test.ts';
import { getAndHangUp } from './support/http-get.ts';
import { hostOf, readPulledDir, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

/**
 * The design's promise for an abandoned fill: when the gateway filling a
 * blob dies mid-stream, its lease expires and the fetcher, holding the
 * gateway's fetch.requested, fills the object itself. Nothing requested is
 * lost.
 */
describe('a gateway killed mid-fill (distributed mode)', () => {
  const env = testEnv();
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>> | undefined;
  // 8 MiB/s: the 32 MiB layer takes about 4 s, so the gateway dies mid-fill.
  const slow = new ThrottledProxy(env.upstreamA, 8 << 20);
  afterAll(async () => {
    await vreg?.stop();
    await slow.stop();
  });

  it('leaves the blob to the fetcher, which stores and records it', async () => {
    const direct = await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/library/bigimage:v1`));
    const [file] = [...direct].filter(([f]) => f !== 'manifest.json').sort((x, y) => y[1].length - x[1].length)[0]!;
    const digest = `sha256:${file.replace(/^sha256-/, '')}`;
    const shortLease = { VREG_FILL_LEASE_TTL_MS: '2000' };
    vreg = await startDistributedUnderTest({ gateway: shortLease, fetcher: shortLease });
    const id = (await vreg.admin.createRegistry('killed-gateway')).id;
    const up = await vreg.admin.addUpstream(id, { name: 'slow-a', url: await slow.start() });
    const gateway = vreg.services.find((s) => s.name === 'gateway')!;
    const url = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/library/bigimage/blobs/${digest}`;
    const partial = getAndHangUp(url, 1 << 20);
    // Kill as soon as the first MiB went out: the fill is under way and the object not yet stored.
    expect((await partial).status).toBe(200);
    await stopService(gateway, 'SIGKILL');
    await waitFor(
      'the fetcher to record the blob',
      async () =>
        (await vreg!.admin.cacheEntries(up.id)).some(
          (e) => e.relative_path === `library/bigimage/blobs/${digest}` && e.size === direct.get(file)!.length,
        )
          ? true
          : undefined,
      90_000,
      250,
    );
    expect(await vreg.storedDigests()).toContain(digest);
    // The gateway's download and the fetcher's: the fill really was completed by someone else.
    expect(slow.count('GET', `/blobs/${digest}`)).toBe(2);
  });
});
