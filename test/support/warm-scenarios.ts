import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from './http-get.ts';
import type { VregUnderTest } from './pull-scenarios.ts';
import { hostOf, readPulledDir, skopeoPull } from './skopeo.ts';
import { type SeededImage, testEnv } from './test-env.ts';
import { ThrottledProxy } from './throttled-proxy.ts';
import { waitFor } from './wait.ts';

interface JobJson {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  params: Record<string, unknown>;
  progress: { objects_done: number; objects_total: number | null; bytes_done: number; bytes_total: number | null };
  result: Record<string, unknown> | null;
  errors: string[];
  started_at: string | null;
  finished_at: string | null;
}

interface Descriptor {
  digest: string;
  size: number;
}
interface SeededPlatform extends Descriptor {
  platform: { os: string; architecture: string; variant?: string };
  config: Descriptor;
  layers: Descriptor[];
}

const IMAGE = 'library/multiarch';
const TAG = 'latest';
const PLATFORMS = {
  amd64: { name: 'linux/amd64', pull: { arch: 'amd64' } },
  arm64: { name: 'linux/arm64/v8', pull: { arch: 'arm64', variant: 'v8' } },
} as const;

/**
 * Warm-up, through the admin API and the real services, against upstream A
 * behind a counting proxy: a warmed platform is then pulled by skopeo
 * without a single upstream request, byte-identical to a direct pull.
 */
export function describeWarm(mode: string, start: () => Promise<VregUnderTest>): void {
  describe(`warm-up (${mode} mode)`, () => {
    const env = testEnv();
    const seeded = env.seeded.find((i) => i.name === IMAGE && i.tag === TAG) as
      | (SeededImage & { digest: string; size: number; manifests: SeededPlatform[] })
      | undefined;
    let vreg: VregUnderTest;
    let proxy: ThrottledProxy;
    let proxyUrl: string;
    const direct = new Map<string, Map<string, Buffer>>();

    const platformOf = (key: keyof typeof PLATFORMS): SeededPlatform => {
      const p = seeded!.manifests.find(
        (m) => `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` === PLATFORMS[key].name,
      );
      if (!p) throw new Error(`seeded.json has no ${PLATFORMS[key].name} instance of ${IMAGE}`);
      return p;
    };
    const digestsOf = (p: SeededPlatform): string[] => [p.digest, p.config.digest, ...p.layers.map((l) => l.digest)];
    /** Every request the proxy saw whose path names one of the digests. */
    const requestsFor = (digests: readonly string[]): string[] =>
      [...proxy.counts.keys()].filter((k) => digests.some((d) => k.includes(d)));

    async function newRegistry(name: string): Promise<string> {
      const id = (await vreg.admin.createRegistry(`${name}-${mode}`)).id;
      // Revalidation off would hide a stale tag; the default validity keeps the warmed tag fresh for the pulls.
      await vreg.admin.addUpstream(id, { name: 'upstream-a-counted', url: proxyUrl });
      return id;
    }

    async function warm(registryId: string, body: unknown): Promise<JobJson> {
      const res = await vreg.admin.call<JobJson>('POST', `/registries/${registryId}/warm`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body).toMatchObject({ kind: 'warm', state: 'queued' });
      return waitFor(
        `warm job ${res.body.id} to end`,
        async () => {
          const job = await vreg.admin.call<JobJson>('GET', `/jobs/${res.body.id}`);
          return job.body.state === 'succeeded' || job.body.state === 'failed' ? job.body : undefined;
        },
        90_000,
        200,
      );
    }

    async function pullThrough(registryId: string, key: keyof typeof PLATFORMS): Promise<Map<string, Buffer>> {
      return readPulledDir(
        await skopeoPull(
          env.skopeo,
          `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/${IMAGE}:${TAG}`,
          PLATFORMS[key].pull,
        ),
      );
    }

    function expectSameBytes(through: Map<string, Buffer>, key: keyof typeof PLATFORMS): void {
      const want = direct.get(key)!;
      expect([...through.keys()]).toEqual([...want.keys()]);
      for (const [file, bytes] of want) expect(sha256(through.get(file)!), `${key} ${file}`).toBe(sha256(bytes));
    }

    beforeAll(async () => {
      if (!seeded) throw new Error(`${IMAGE}:${TAG} is not in seeded.json`);
      for (const key of Object.keys(PLATFORMS) as Array<keyof typeof PLATFORMS>) {
        direct.set(key, await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/${IMAGE}:${TAG}`, PLATFORMS[key].pull)));
      }
      proxy = new ThrottledProxy(env.upstreamA, 1 << 30);
      proxyUrl = await proxy.start();
      vreg = await start();
    });

    afterAll(async () => {
      await vreg?.stop();
      await proxy?.stop();
    });

    // First, while the store is empty: nothing of amd64 may be fetched or stored.
    it("warms only the listed platform: the other platform's manifest and blobs are never fetched", async () => {
      const registryId = await newRegistry('warm-arm64');
      proxy.counts.clear();
      const job = await warm(registryId, { image: IMAGE, tag: TAG, platforms: [PLATFORMS.arm64.name] });
      expect(job.state, job.errors.join('\n')).toBe('succeeded');
      const arm64 = platformOf('arm64');
      const amd64 = platformOf('amd64');
      expect(requestsFor(digestsOf(amd64))).toEqual([]);
      for (const d of digestsOf(arm64)) expect(requestsFor([d]).length, d).toBeGreaterThan(0);
      const stored = await vreg.storedDigests();
      for (const d of digestsOf(amd64)) expect(stored).not.toContain(d);
      for (const d of digestsOf(arm64)) expect(stored).toContain(d);
      // The index, the arm64 manifest, its config and its one layer.
      expect(job.progress).toEqual({
        objects_done: 4,
        objects_total: 4,
        bytes_done: job.progress.bytes_total,
        bytes_total: seeded!.size + arm64.size + arm64.config.size + arm64.layers.reduce((n, l) => n + l.size, 0),
      });
      expect(job.result).toMatchObject({
        digest: seeded!.digest,
        platforms: [PLATFORMS.arm64.name],
        manifests: 2,
        blobs: 2,
        objects_downloaded: 4,
        objects_already_cached: 0,
      });

      proxy.counts.clear();
      expectSameBytes(await pullThrough(registryId, 'arm64'), 'arm64');
      expect(Object.fromEntries(proxy.counts)).toEqual({});
    });

    it("warms every platform, after which pulling each platform asks the upstream nothing and gets the upstream's bytes", async () => {
      const registryId = await newRegistry('warm-all');
      proxy.counts.clear();
      const job = await warm(registryId, { image: IMAGE, tag: TAG, platforms: 'all' });
      expect(job.state, job.errors.join('\n')).toBe('succeeded');
      expect(job.started_at).not.toBeNull();
      expect(job.finished_at).not.toBeNull();
      const all = seeded!.manifests;
      const bytesTotal = seeded!.size + all.reduce((n, p) => n + p.size + p.config.size + p.layers.reduce((m, l) => m + l.size, 0), 0);
      expect(job.progress).toEqual({ objects_done: 7, objects_total: 7, bytes_done: bytesTotal, bytes_total: bytesTotal });
      // The index and everything of arm64 were stored by the first warm (another registry): recorded after a HEAD, not downloaded again.
      expect(job.result).toMatchObject({
        platforms: [PLATFORMS.amd64.name, PLATFORMS.arm64.name],
        manifests: 3,
        blobs: 4,
        objects_downloaded: 3,
        objects_already_cached: 4,
      });
      const arm64 = platformOf('arm64');
      for (const d of digestsOf(arm64)) expect(proxy.count('GET', d), d).toBe(0);
      expect(proxy.count('GET', `/manifests/${TAG}`)).toBe(0);
      expect(job.errors).toEqual([]);

      proxy.counts.clear();
      expectSameBytes(await pullThrough(registryId, 'amd64'), 'amd64');
      expectSameBytes(await pullThrough(registryId, 'arm64'), 'arm64');
      expect(Object.fromEntries(proxy.counts)).toEqual({});

      // Warming again only checks the tag (a HEAD): everything else is recorded already.
      proxy.counts.clear();
      const again = await warm(registryId, { image: IMAGE, tag: TAG, platforms: 'all' });
      expect(again.state).toBe('succeeded');
      expect(again.result).toMatchObject({ objects_downloaded: 0, objects_already_cached: 7 });
      expect([...proxy.counts.keys()].filter((k) => !k.endsWith('/v2/') && !k.includes('token'))).toEqual([
        `HEAD /v2/${IMAGE}/manifests/${TAG}`,
      ]);
    });

    it('fails the job with the reason for an unknown tag and for a platform the index lacks, and refuses a bad body', async () => {
      const registryId = await newRegistry('warm-errors');
      const unknown = await warm(registryId, { image: IMAGE, tag: 'no-such-tag', platforms: 'all' });
      expect(unknown.state).toBe('failed');
      expect(unknown.errors.join('\n')).toMatch(/library\/multiarch:no-such-tag: manifest unknown.*MANIFEST_UNKNOWN/);
      const missing = await warm(registryId, { image: IMAGE, tag: TAG, platforms: ['linux/s390x'] });
      expect(missing.state).toBe('failed');
      expect(missing.errors.join('\n')).toContain('platform linux/s390x not in the index; available: linux/amd64, linux/arm64/v8');
      const bad = await vreg.admin.call<{ errors: Array<{ code: string }> }>('POST', `/registries/${registryId}/warm`, {
        image: IMAGE,
        tag: TAG,
        platforms: ['linux'],
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]!.code).toBe('VALIDATION_FAILED');
    });
  });
}
