import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { type SeededImage, testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

/**
 * GC in distributed mode (catalog, fetcher and gateway processes on NATS,
 * FerretDB and moto S3): cleanup and quotas only mark entries; the gc job
 * destroys the marked rows and deletes the objects no live entry of any
 * registry references, never a blob another registry still uses.
 */
const env = testEnv();
const DAY = 86_400_000;

type Vreg = Awaited<ReturnType<typeof startDistributedUnderTest>>;
type Job = { id: string; state: string; result: Record<string, unknown> | null; errors: string[] };
type Entry = Record<string, unknown> & { relative_path: string; digest: string };

function seeded(name: string): SeededImage & { digest: string; config: { digest: string }; layers: Array<{ digest: string }> } {
  const image = env.seeded.find((i) => i.name === name);
  if (!image) throw new Error(`${name} is not seeded`);
  return image as never;
}

/** The distinct objects an image's pull stores: manifest, config, layers. */
function objectsOf(name: string): string[] {
  const image = seeded(name);
  return [image.digest, image.config.digest, ...image.layers.map((l) => l.digest)];
}

let vreg: Vreg;
let mongo: MongoClient;
let proxyB: ThrottledProxy;
/** Upstream B behind a counting proxy, for registry two: proves its pulls are hits. */
let proxyBUrl: string;

async function pull(registryId: string, name: string, tag: string): Promise<void> {
  await skopeoPull(env.skopeo, `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/${name}:${tag}`);
}

async function entriesOf(upstreamId: string): Promise<Entry[]> {
  return (await vreg.admin.cacheEntries(upstreamId)) as Entry[];
}

/** Waits until the catalog recorded `count` entries for the upstream (object.stored is asynchronous). */
async function waitForEntries(upstreamId: string, count: number): Promise<Entry[]> {
  return waitFor(
    `${count} entries of upstream ${upstreamId}`,
    async () => {
      const list = await entriesOf(upstreamId);
      return list.length >= count ? list : undefined;
    },
    60_000,
    200,
  );
}

/**
 * Waits until the entries of the upstreams stop changing (the gateway's batched hit reports have
 * landed), so that aging them is not undone by a late report moving downloaded_at to now.
 */
async function settled(upstreamIds: readonly string[]): Promise<void> {
  let previous = '';
  await waitFor(
    'hit reports to land',
    async () => {
      const now = JSON.stringify(await Promise.all(upstreamIds.map((id) => entriesOf(id))));
      const same = now === previous;
      previous = now;
      return same ? true : undefined;
    },
    30_000,
    1_000,
  );
}

async function finished(job: { id: string }): Promise<Job> {
  return waitFor(
    `job ${job.id} to finish`,
    async () => {
      const res = await vreg.admin.call<Job>('GET', `/jobs/${job.id}`);
      return res.body.state === 'succeeded' || res.body.state === 'failed' ? res.body : undefined;
    },
    60_000,
    200,
  );
}

async function gc(dryRun: boolean): Promise<Job> {
  const res = await vreg.admin.call<Job>('POST', '/gc', { dry_run: dryRun });
  expect(res.status).toBe(202);
  return finished(res.body);
}

/** Moves the last activity of matching entries into the past, as if nobody had pulled them for a while. */
async function ageEntries(filter: Record<string, unknown>, ageMs: number): Promise<void> {
  const past = new Date(Date.now() - ageMs);
  const result = await mongo
    .db(vreg.env.VREG_MONGO_DB)
    .collection('cache_entries')
    .updateMany(filter, { $set: { downloaded_at: past, created_at: past } });
  expect(result.matchedCount).toBeGreaterThan(0);
}

beforeAll(async () => {
  proxyB = new ThrottledProxy(env.upstreamB, 1_000_000_000);
  const catalog = {
    // Only the gc job runs GC here, with no grace period, so the test decides when.
    VREG_GC_GRACE_MS: '0',
    VREG_GC_INTERVAL_MS: '0',
    VREG_DESTRUCTION_INTERVAL_MS: '0',
    VREG_QUOTA_SWEEP_INTERVAL_MS: '500',
    VREG_JOB_POLL_INTERVAL_MS: '200',
  };
  // Hits are reported in batches; a short flush lets the tests wait until every report has landed.
  const gateway = { VREG_SERVED_FLUSH_MS: '100' };
  [vreg, proxyBUrl] = await Promise.all([startDistributedUnderTest({ catalog, gateway }), proxyB.start()]);
  mongo = new MongoClient(vreg.env.VREG_MONGO_URL as string);
  await mongo.connect();
}, 180_000);

afterAll(async () => {
  await mongo?.close();
  await vreg?.stop();
  await proxyB?.stop();
});

describe('cleanup then GC, two registries sharing a blob', () => {
  let r1: string;
  let r2: string;
  let upA: string;
  let upB: string;
  const busybox = objectsOf('library/busybox');
  const api = objectsOf('team/app/api');

  beforeAll(async () => {
    r1 = (await vreg.admin.createRegistry('gc-one')).id;
    r2 = (await vreg.admin.createRegistry('gc-two')).id;
    upA = (await vreg.admin.addUpstream(r1, { name: 'a', url: env.upstreamA })).id;
    upB = (await vreg.admin.addUpstream(r2, { name: 'b', url: proxyBUrl })).id;
    await pull(r1, 'library/busybox', 'latest');
    await pull(r1, 'team/app/api', '1.0');
    await pull(r2, 'library/busybox', 'latest');
    // Tag + digest manifest entries, config, layer: four per image.
    await waitForEntries(upA, 8);
    await waitForEntries(upB, 4);
    await settled([upA, upB]);
  }, 240_000);

  it('pulled the same busybox digests through both registries into one stored copy', async () => {
    // Registry two's upstream was asked (the layer itself only by HEAD: its bytes were already stored).
    expect(proxyB.count('HEAD', busybox[2] as string) + proxyB.count('GET', busybox[2] as string)).toBeGreaterThan(0);
    expect((await entriesOf(upB)).map((e) => e.digest).sort()).toEqual(expect.arrayContaining(busybox));
    const stored = await vreg.storedDigests();
    for (const d of [...busybox, ...api]) expect(stored).toContain(d);
  });

  it("marks registry one's old entries with a one-day cleanup, and a dry run reports only the objects nothing else references", async () => {
    await ageEntries({ registry_id: Number(r1) }, 3 * DAY);
    const put = await vreg.admin.call('PUT', `/registries/${r1}/cleanup_policy`, {
      enabled: true,
      keep_n_days_after_download: 1,
      cadence: 1,
    });
    expect(put.status).toBe(200);
    const run = await vreg.admin.call<Job>('POST', `/registries/${r1}/cleanup_policy/run`);
    expect(run.status).toBe(202);
    expect((await finished(run.body)).state).toBe('succeeded');

    const dry = await gc(true);
    expect(dry).toMatchObject({ state: 'succeeded', result: { dry_run: true, objects_would_delete: api.length } });
    expect([...(dry.result?.digests as string[])].sort()).toEqual([...api].sort());
    const stored = await vreg.storedDigests();
    for (const d of [...busybox, ...api]) expect(stored).toContain(d);
  });

  it("GC removes exactly registry one's entries and the objects only it referenced; the shared blob stays", async () => {
    const job = await gc(false);
    expect(job).toMatchObject({ state: 'succeeded', errors: [], result: { dry_run: false, objects_deleted: api.length } });
    expect([...(job.result?.digests as string[])].sort()).toEqual([...api].sort());
    expect(await entriesOf(upA)).toEqual([]);
    expect(await entriesOf(upB)).toHaveLength(4);
    const stored = await vreg.storedDigests();
    for (const d of api) expect(stored).not.toContain(d);
    for (const d of busybox) expect(stored).toContain(d);
  });

  it('registry two still pulls busybox as a pure hit: nothing asked of its upstream', async () => {
    proxyB.counts.clear();
    await pull(r2, 'library/busybox', 'latest');
    expect([...proxyB.counts.entries()]).toEqual([]);
  });
});

describe('quota: least recently downloaded entries go first', () => {
  let r3: string;
  let upA: string;
  let upB: string;
  const images = [
    { name: 'library/only-in-b', tag: 'latest', ageDays: 30 },
    { name: 'team/app/api', tag: '1.0', ageDays: 20 },
    { name: 'library/busybox', tag: 'latest', ageDays: 10 },
  ];

  beforeAll(async () => {
    r3 = (await vreg.admin.createRegistry('gc-quota')).id;
    upA = (await vreg.admin.addUpstream(r3, { name: 'a', url: env.upstreamA })).id;
    upB = (await vreg.admin.addUpstream(r3, { name: 'b', url: env.upstreamB })).id;
    for (const image of images) await pull(r3, image.name, image.tag);
    await waitForEntries(upA, 8);
    await waitForEntries(upB, 4);
    await settled([upA, upB]);
    for (const image of images)
      await ageEntries({ registry_id: Number(r3), relative_path: { $regex: `^${image.name}/` } }, image.ageDays * DAY);
  }, 240_000);

  const usage = async (): Promise<{ stored_bytes: number }> =>
    (await vreg.admin.call<{ stored_bytes: number }>('GET', `/registries/${r3}/usage`)).body;
  const liveNames = async (): Promise<string[]> => {
    const entries = [...(await entriesOf(upA)), ...(await entriesOf(upB))].filter((e) => e.status === undefined || e.status === 'default');
    return [...new Set(entries.map((e) => images.find((i) => e.relative_path.startsWith(`${i.name}/`))?.name))].sort() as string[];
  };
  const bytesOf = (name: string): number => {
    const image = seeded(name) as unknown as { size: number; config: { size: number }; layers: Array<{ size: number }> };
    return image.size + image.config.size + image.layers.reduce((n, l) => n + l.size, 0);
  };

  it('evicts the oldest image first, then the next, keeping the newest; GC then frees their objects', async () => {
    const total = (await usage()).stored_bytes;
    expect(total).toBe(images.reduce((n, i) => n + bytesOf(i.name), 0));

    const patch1 = await vreg.admin.call('PATCH', `/registries/${r3}`, { max_stored_bytes: total - bytesOf('library/only-in-b') });
    expect(patch1.status).toBe(200);
    await waitFor('the oldest image evicted', async () => ((await liveNames()).length === 2 ? true : undefined), 30_000, 200);
    expect(await liveNames()).toEqual(['library/busybox', 'team/app/api']);

    await vreg.admin.call('PATCH', `/registries/${r3}`, { max_stored_bytes: bytesOf('library/busybox') });
    await waitFor('the next oldest image evicted', async () => ((await liveNames()).length === 1 ? true : undefined), 30_000, 200);
    expect(await liveNames()).toEqual(['library/busybox']);
    expect((await usage()).stored_bytes).toBe(bytesOf('library/busybox'));

    const job = await gc(false);
    expect(job).toMatchObject({ state: 'succeeded', errors: [] });
    const stored = await vreg.storedDigests();
    for (const d of [...objectsOf('library/only-in-b'), ...objectsOf('team/app/api')]) expect(stored).not.toContain(d);
    for (const d of objectsOf('library/busybox')) expect(stored).toContain(d);
  });
});

describe('embedded mode: cleanup then GC on SQLite and the data directory, then the image pulled again', () => {
  let embedded: Awaited<ReturnType<typeof startEmbeddedUnderTest>>;
  const api = objectsOf('team/app/api');

  beforeAll(async () => {
    embedded = await startEmbeddedUnderTest({
      VREG_GC_GRACE_MS: '0',
      VREG_GC_INTERVAL_MS: '0',
      VREG_DESTRUCTION_INTERVAL_MS: '0',
      VREG_JOB_POLL_INTERVAL_MS: '200',
    });
  });

  afterAll(async () => {
    await embedded?.stop();
  });

  it("deletes the image's files once its entries are cleaned up, and a later pull stores and records them again", async () => {
    const admin = embedded.admin;
    const registryId = (await admin.createRegistry('gc-embedded')).id;
    const upstreamId = (await admin.addUpstream(registryId, { name: 'a', url: env.upstreamA })).id;
    const ref = `${hostOf(embedded.gatewayUrl)}/virtual_registries/containers/${registryId}/team/app/api:1.0`;
    await skopeoPull(env.skopeo, ref);
    const entries = async (): Promise<Entry[]> => (await admin.cacheEntries(upstreamId)) as Entry[];
    await waitFor('the pull recorded', async () => ((await entries()).length >= 4 ? true : undefined), 30_000, 100);

    // Three days without a pull, written into the catalog file as the clock would have.
    const db = new Database(join(embedded.dataDir, 'catalog.sqlite'));
    const past = new Date(Date.now() - 3 * DAY).toISOString();
    try {
      expect(
        db.prepare('UPDATE cache_entries SET downloaded_at = ?, created_at = ? WHERE registry_id = ?').run(past, past, Number(registryId))
          .changes,
      ).toBe(4);
    } finally {
      db.close();
    }
    expect(
      (await admin.call('PUT', `/registries/${registryId}/cleanup_policy`, { enabled: true, keep_n_days_after_download: 1, cadence: 7 }))
        .status,
    ).toBe(200);
    const run = await admin.call<Job>('POST', `/registries/${registryId}/cleanup_policy/run`);
    const jobOf = (id: string) =>
      waitFor(
        `job ${id}`,
        async () => {
          const job = (await admin.call<Job>('GET', `/jobs/${id}`)).body;
          return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
        },
        30_000,
        100,
      );
    expect((await jobOf(run.body.id)).state).toBe('succeeded');
    const gcJob = await jobOf((await admin.call<Job>('POST', '/gc', { dry_run: false })).body.id);
    expect(gcJob).toMatchObject({ state: 'succeeded', result: { objects_deleted: api.length } });
    expect(await entries()).toEqual([]);
    const onDisk = await embedded.storedDigests();
    for (const d of api) expect(onDisk).not.toContain(d);

    // The objects' tombstones do not stand in the way of a new fill: stored and recorded again.
    await skopeoPull(env.skopeo, ref);
    await waitFor('the second pull recorded', async () => ((await entries()).length >= 4 ? true : undefined), 30_000, 100);
    const again = await embedded.storedDigests();
    for (const d of api) expect(again).toContain(d);
  });
});
