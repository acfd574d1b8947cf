import { afterEach, describe, expect, it } from 'vitest';
import { type CpuHog, startCpuHog } from './support/cpu-hog.ts';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { hashedGet, rawGet, sha256 } from './support/http-get.ts';
import { hostOf, readPulledDir, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
// The catalog answers registry look-ups over NATS; starved by the hog on a busy machine it has been
// seen to need more than the default 2 s, which fails the pull before any blob is asked for.
const STARVED = { VREG_CATALOG_TIMEOUT_MS: '30000' };

/**
 * A rollout: many clients pull the same new image through two gateway
 * replicas at once. Each blob is downloaded from the upstream exactly once:
 * inside a gateway the misses share one fill, across gateways the fill
 * lease elects one filler and the other replica waits for its commit. Both
 * cases run with every core busy (a CPU hog), as on a loaded CI machine:
 * slow event loops, late timers and slow answers from NATS must not elect
 * a second filler.
 */
describe('concurrent cold pulls across two gateways (distributed mode), on a starved machine', () => {
  const env = testEnv();
  let counting: ThrottledProxy | undefined;
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>> | undefined;
  let hog: CpuHog | undefined;
  afterEach(async () => {
    await hog?.stop();
    await vreg?.stop();
    await counting?.stop();
  });

  async function directBlobs(): Promise<string[]> {
    const direct = await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/library/bigimage:v1`));
    return [...direct.keys()].filter((f) => f !== 'manifest.json').map((f) => `sha256:${f.replace(/^sha256-/, '')}`);
  }

  it('downloads every blob from the upstream once and gives every client the right bytes', async () => {
    const blobs = await directBlobs();
    counting = new ThrottledProxy(env.upstreamA, 64 << 20);
    vreg = await startDistributedUnderTest({ gateway: STARVED }, { gateways: 2 });
    const id = (await vreg.admin.createRegistry('rollout')).id;
    await vreg.admin.addUpstream(id, { name: 'counted-a', url: await counting.start() });
    hog = await startCpuHog(180_000);
    const requests = vreg.gatewayUrls.flatMap((base) =>
      blobs.flatMap((digest) =>
        Array.from({ length: 5 }, () =>
          rawGet(`${base}/v2/virtual_registries/containers/${id}/library/bigimage/blobs/${digest}`).then((r) => ({ digest, r })),
        ),
      ),
    );
    const results = await Promise.all(requests);
    await hog.stop();
    for (const { digest, r } of results) {
      expect(r.status, digest).toBe(200);
      expect(r.truncated, digest).toBe(false);
      expect(sha256(r.body), digest).toBe(digest);
    }
    for (const digest of blobs) expect(counting.count('GET', `/blobs/${digest}`), digest).toBe(1);
  }, 300_000);

  // Both cases start four vreg processes and pull under the hog: generous bounds, for a CI machine
  // that is busy besides. The fill outlasts the lease TTL several times over (a slow upstream), so the holder must keep
  // renewing while starved, and the other gateway must keep waiting on a slow holder.
  it('50 image pulls spread over both gateways make one upstream GET per blob, with fills outlasting the lease TTL', async () => {
    const blobs = await directBlobs();
    counting = new ThrottledProxy(env.upstreamA, 4 << 20);
    const leaseTtl = { VREG_FILL_LEASE_TTL_MS: '4000' };
    vreg = await startDistributedUnderTest({ gateway: { ...STARVED, ...leaseTtl }, fetcher: leaseTtl }, { gateways: 2 });
    const id = (await vreg.admin.createRegistry('rollout')).id;
    await vreg.admin.addUpstream(id, { name: 'counted-a', url: await counting.start() });
    const gateways = vreg.gatewayUrls;
    hog = await startCpuHog(280_000);
    const pulls = Array.from({ length: 50 }, async (_, client) => {
      const base = `${gateways[client % gateways.length]}/v2/virtual_registries/containers/${id}/library/bigimage`;
      const manifest = await rawGet(`${base}/manifests/v1`, { accept: DOCKER_MANIFEST });
      expect(manifest.status, manifest.body.toString()).toBe(200);
      const parsed = JSON.parse(manifest.body.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
      const digests = [parsed.config.digest, ...parsed.layers.map((l) => l.digest)];
      return Promise.all(digests.map(async (digest) => ({ digest, r: await hashedGet(`${base}/blobs/${digest}`) })));
    });
    const results = (await Promise.all(pulls)).flat();
    await hog.stop();
    expect(results).toHaveLength(50 * blobs.length);
    for (const { digest, r } of results) {
      expect(r.status, digest).toBe(200);
      expect(r.truncated, digest).toBe(false);
      expect(r.digest, digest).toBe(digest);
    }
    for (const digest of blobs) expect(counting.count('GET', `/blobs/${digest}`), digest).toBe(1);
  }, 300_000);
});
