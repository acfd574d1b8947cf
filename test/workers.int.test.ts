import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCpuHog } from './support/cpu-hog.ts';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedProcessUnderTest } from './support/embedded-under-test.ts';
import { rawGet, sha256 } from './support/http-get.ts';
import { workerPids } from './support/process-tree.ts';
import { describePullThrough, type VregUnderTest } from './support/pull-scenarios.ts';
import { testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

const BIG = { name: 'library/bigimage', tag: 'v1' } as const;
const MANIFEST_ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
/** A new connection per request: the cluster hands each to the next worker, so requests spread over both. */
const NEW_CONNECTION = { connection: 'close' };

/** The value of one series of a Prometheus exposition (0 when absent). */
function series(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Sum of every series of `name` carrying `labels`. */
function seriesSum(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

// The whole pull-through suite, against embedded mode with two worker processes.
describePullThrough('embedded, 2 workers', () => startEmbeddedProcessUnderTest({ VREG_WORKERS: '2' }));

describe('embedded mode with worker processes (VREG_WORKERS=2)', () => {
  const env = testEnv();
  // Fast enough to finish soon, slow enough that ten clients are all in before the fill ends.
  const upstream = new ThrottledProxy(env.upstreamA, 16 << 20);
  let vreg: VregUnderTest & { process: { child: ChildProcess; fullOutput(): string } };
  let registryId: string;
  let layer: { digest: string; size: number };
  let whole: Buffer;
  const blobUrl = (): string => `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${BIG.name}/blobs/${layer.digest}`;
  const metrics = async (): Promise<string> => (await rawGet(`${vreg.gatewayUrl}/metrics`, NEW_CONNECTION)).body.toString();

  beforeAll(async () => {
    vreg = await startEmbeddedProcessUnderTest({ VREG_WORKERS: '2', VREG_LOG_LEVEL: 'info' });
    // One worker answers first; the other may still be loading on a busy machine, and cluster sends it nothing until it listens.
    await bothWorkersListening(() => vreg.process.fullOutput());
    registryId = (await vreg.admin.createRegistry('workers', { visibility: 'public' })).id;
    await vreg.admin.addUpstream(registryId, { name: 'a', url: await upstream.start() });
    const manifest = await rawGet(`${env.upstreamA}/v2/${BIG.name}/manifests/${BIG.tag}`, { accept: MANIFEST_ACCEPT });
    layer = (JSON.parse(manifest.body.toString()) as { layers: Array<{ digest: string; size: number }> }).layers[0]!;
    whole = (await rawGet(`${env.upstreamA}/v2/${BIG.name}/blobs/${layer.digest}`)).body;
    expect(sha256(whole)).toBe(layer.digest);
  });

  afterAll(async () => {
    await vreg?.stop();
    await upstream.stop();
  });

  it('runs a primary and two workers that answer /readyz', async () => {
    expect(workerPids(vreg.process.child.pid!)).toHaveLength(2);
    const ready = await rawGet(`${vreg.gatewayUrl}/readyz`, NEW_CONNECTION);
    expect(ready.status).toBe(200);
  });

  it('fetches a blob once from the upstream for ten concurrent cold pulls spread over both workers, under a CPU hog', async () => {
    const hog = await startCpuHog(60_000);
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => rawGet(blobUrl(), NEW_CONNECTION)));
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.truncated).toBe(false);
        expect(sha256(r.body)).toBe(layer.digest);
      }
    } finally {
      await hog.stop();
    }
    expect(upstream.count('GET', `/blobs/${layer.digest}`)).toBe(1);
  });

  it('asks the upstream once for a tag that ten concurrent first pulls spread over both workers ask for, under a CPU hog', async () => {
    const url = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${BIG.name}/manifests/${BIG.tag}`;
    const hog = await startCpuHog(60_000);
    let results: Awaited<ReturnType<typeof rawGet>>[];
    try {
      results = await Promise.all(Array.from({ length: 10 }, () => rawGet(url, { ...NEW_CONNECTION, accept: MANIFEST_ACCEPT })));
    } finally {
      await hog.stop();
    }
    const digests = new Set(results.map((r) => r.headers['docker-content-digest']));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(sha256(r.body)).toBe(r.headers['docker-content-digest']);
    }
    expect(digests.size).toBe(1);
    expect(upstream.count('GET', `/manifests/${BIG.tag}`)).toBe(1);
  });

  it('serves hits byte-exact from both workers, ranges too, and /metrics counts every one of them', async () => {
    const before = await metrics();
    const hitsBefore = series(before, 'vreg_cache_results_total', { result: 'hit', registry: registryId, kind: 'blob' });
    const hits = await Promise.all(Array.from({ length: 8 }, () => rawGet(blobUrl(), NEW_CONNECTION)));
    for (const r of hits) {
      expect(r.status).toBe(200);
      expect(r.headers['x-vreg-cache']).toBe('hit');
      expect(sha256(r.body)).toBe(layer.digest);
    }
    const range = await rawGet(blobUrl(), { ...NEW_CONNECTION, range: 'bytes=1000-1999' });
    expect(range.status).toBe(206);
    expect(range.body.equals(whole.subarray(1000, 2000))).toBe(true);
    // A worker counts and logs a request when its response has finished, which the client may see first: wait for all nine.
    const hitsIn = (text: string) =>
      series(text, 'vreg_cache_results_total', { result: 'hit', registry: registryId, kind: 'blob' }) - hitsBefore;
    const after = await waitFor(
      'the nine hits counted',
      async () => {
        const text = await metrics();
        return hitsIn(text) >= 9 ? text : undefined;
      },
      30_000,
    );
    expect(hitsIn(after)).toBe(9);
    // Each worker logs the requests it served: both served some.
    const servedBy = new Set(
      vreg.process
        .fullOutput()
        .split('\n')
        .filter((l) => l.includes('"msg":"request completed"') && l.includes('"cache":"hit"'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
    expect(servedBy.size).toBe(2);
    for (const worker of ['primary', '1', '2'])
      expect(after).toMatch(new RegExp(`vreg_event_loop_delay_seconds\\{worker="${worker}",stat="max"\\} `));
  });

  it('replaces a worker that dies, and its counts stay in /metrics', async () => {
    const primary = vreg.process.child.pid!;
    const [victim] = workerPids(primary);
    const counted = seriesSum(await metrics(), 'vreg_cache_results_total', { registry: registryId, kind: 'blob' });
    process.kill(victim!, 'SIGKILL');
    await waitFor(
      'a new worker',
      async () => {
        const pids = workerPids(primary);
        return pids.length === 2 && !pids.includes(victim!) ? pids : undefined;
      },
      60_000,
      200,
    );
    await waitFor(
      '/readyz after the restart',
      async () => ((await rawGet(`${vreg.gatewayUrl}/readyz`, NEW_CONNECTION)).status === 200 ? true : undefined),
      60_000,
    );
    for (let i = 0; i < 4; i++) expect(sha256((await rawGet(blobUrl(), NEW_CONNECTION)).body)).toBe(layer.digest);
    expect(seriesSum(await metrics(), 'vreg_cache_results_total', { registry: registryId, kind: 'blob' })).toBeGreaterThanOrEqual(
      counted + 4,
    );
  });

  it('forwards the admin API to the primary, with the client error shapes intact', async () => {
    const missing = await vreg.admin.call('GET', '/registries/999999');
    expect(missing.status).toBe(404);
    const unauthenticated = await rawGet(`${vreg.gatewayUrl}/api/v1/registries`, NEW_CONNECTION);
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(unauthenticated.body.toString())).toMatchObject({ errors: [{ code: expect.any(String) }] });
  });

  it('stops every process on SIGTERM to the primary, exit code 0', async () => {
    const primary = vreg.process.child;
    const workers = workerPids(primary.pid!);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Each worker finished on the primary's word; none had to be killed.
    expect(vreg.process.fullOutput()).not.toContain('did not stop in time');
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('distributed gateway with worker processes (VREG_WORKERS=2)', () => {
  const env = testEnv();
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>>;
  let registryId: string;

  beforeAll(async () => {
    vreg = await startDistributedUnderTest({ gateway: { VREG_WORKERS: '2', VREG_LOG_LEVEL: 'info' } });
    await bothWorkersListening(() => vreg.services.find((s) => s.name === 'gateway')?.fullOutput() ?? '');
    registryId = (await vreg.admin.createRegistry('gateway-workers', { visibility: 'public' })).id;
    await vreg.admin.addUpstream(registryId, { name: 'a', url: env.upstreamA });
  });

  afterAll(async () => {
    await vreg?.stop();
  });

  it('serves byte-exact blobs from both workers and merges their metrics', async () => {
    const manifest = await rawGet(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${BIG.name}/manifests/${BIG.tag}`, {
      accept: MANIFEST_ACCEPT,
    });
    expect(manifest.status).toBe(200);
    const config = (JSON.parse(manifest.body.toString()) as { config: { digest: string } }).config;
    const url = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${BIG.name}/blobs/${config.digest}`;
    for (let i = 0; i < 6; i++) {
      const r = await rawGet(url, NEW_CONNECTION);
      expect(r.status).toBe(200);
      expect(sha256(r.body)).toBe(config.digest);
    }
    const text = (await rawGet(`${vreg.gatewayUrl}/metrics`, NEW_CONNECTION)).body.toString();
    expect(seriesSum(text, 'vreg_cache_results_total', { registry: registryId, kind: 'blob' })).toBe(6);
    for (const worker of ['1', '2']) expect(text).toMatch(new RegExp(`vreg_event_loop_delay_seconds\\{worker="${worker}",stat="max"\\} `));
  });
});

/** Waits for the primary's word that every worker listens (its supervisor logs it once all do). */
async function bothWorkersListening(output: () => string): Promise<void> {
  await waitFor('every worker listening', async () => (output().includes('"msg":"workers listening"') ? true : undefined), 120_000, 200);
}
