import { afterAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { rawGet, sha256 } from './support/http-get.ts';
import { hostOf, readPulledDir, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';

/**
 * A rollout: many clients pull the same new image through two gateway
 * replicas at once. Each blob is downloaded from the upstream exactly once:
 * inside a gateway the misses share one fill, across gateways the fill
 * lease elects one filler and the other replica waits for its commit.
 */
describe('concurrent cold pulls across two gateways (distributed mode)', () => {
  const env = testEnv();
  const counting = new ThrottledProxy(env.upstreamA, 64 << 20);
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>> | undefined;
  afterAll(async () => {
    await vreg?.stop();
    await counting.stop();
  });

  it('downloads every blob from the upstream once and gives every client the right bytes', async () => {
    const direct = await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/library/bigimage:v1`));
    const blobs = [...direct.keys()].filter((f) => f !== 'manifest.json').map((f) => `sha256:${f.replace(/^sha256-/, '')}`);
    vreg = await startDistributedUnderTest({}, { gateways: 2 });
    const id = (await vreg.admin.createRegistry('rollout')).id;
    await vreg.admin.addUpstream(id, { name: 'counted-a', url: await counting.start() });
    const requests = vreg.gatewayUrls.flatMap((base) =>
      blobs.flatMap((digest) =>
        Array.from({ length: 5 }, () =>
          rawGet(`${base}/v2/virtual_registries/containers/${id}/library/bigimage/blobs/${digest}`).then((r) => ({ digest, r })),
        ),
      ),
    );
    const results = await Promise.all(requests);
    for (const { digest, r } of results) {
      expect(r.status, digest).toBe(200);
      expect(r.truncated, digest).toBe(false);
      expect(sha256(r.body), digest).toBe(digest);
    }
    for (const digest of blobs) expect(counting.count('GET', `/blobs/${digest}`), digest).toBe(1);
  });
});
