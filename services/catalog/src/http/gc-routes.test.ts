import { randomBytes } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BusUpstreamProber } from '../adapters/bus/bus-upstream-prober.ts';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { AccessTokens } from '../domain/access-tokens.ts';
import { CatalogAdmin } from '../domain/catalog-admin.ts';
import { UpstreamTests } from '../domain/upstream-tests.ts';
import { GcRunner } from '../gc/gc-runner.ts';
import { markPending, putBlob } from '../gc/testing/gc-fixtures.ts';
import { JobWorker } from '../lifecycle/job-worker.ts';
import { createAdminApi } from './admin-api.ts';

const TOKEN = 'gc-routes-admin-token-0123';
const logger = createLogger({ level: 'silent', name: 'gc-routes-test' });

let store: MemoryCatalogStore;
let blobs: MemoryBlobStore;
let gc: GcRunner;
let worker: JobWorker;
let server: FastifyInstance;
let bus: MemoryEventBus;

async function call(method: 'GET' | 'POST', url: string, payload?: object, token = TOKEN) {
  return server.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });
}

beforeEach(async () => {
  store = new MemoryCatalogStore();
  blobs = new MemoryBlobStore();
  bus = new MemoryEventBus({ logger });
  gc = new GcRunner({ store, blobs, logger, graceMs: 0, gcIntervalMs: 0, destructionIntervalMs: 0, onQueued: () => worker.wake() });
  worker = new JobWorker({ jobs: store.jobs, handlers: { gc: gc.jobHandler }, logger, pollIntervalMs: 0 });
  worker.start();
  const box = new SecretBox(randomBytes(32));
  const accessTokens = new AccessTokens({ tokens: store.accessTokens, registries: store.registries, usage: { touch: () => {} } });
  const upstreamTests = new UpstreamTests({ upstreams: store.upstreams, sealer: box, prober: new BusUpstreamProber(bus) });
  server = Fastify({ logger: false });
  await server.register(
    createAdminApi({ admin: new CatalogAdmin(store, box), adminToken: TOKEN, accessTokens, upstreamTests, jobs: store.jobs, gc }),
    { prefix: '/api/v1' },
  );
  await server.ready();
});

afterEach(async () => {
  await worker.stop();
  await gc.stop();
  await server.close();
  await bus.close();
});

/** Two upstreams sharing one blob; upstream 1 also has a blob of its own. Upstream 1's entries are marked for destruction. */
async function cacheWithPendingEntries(): Promise<{ own: string; shared: string }> {
  const registryId = (await store.registries.create({ name: 'r' })).id;
  const one = (await store.upstreams.create({ registryId, name: 'one', url: 'https://one.example', cacheValidityHours: 1 })).id;
  const two = (await store.upstreams.create({ registryId, name: 'two', url: 'https://two.example', cacheValidityHours: 1 })).id;
  const own = await putBlob(blobs, 'only upstream one');
  const shared = await putBlob(blobs, 'both');
  const write = { registryId, contentType: 'application/octet-stream', upstreamCheckedAt: new Date('2025-01-01T00:00:00Z') };
  await store.cacheEntries.upsert({ ...write, upstreamId: one, relativePath: `a/blobs/${own}`, digest: own, size: 17 });
  await store.cacheEntries.upsert({ ...write, upstreamId: one, relativePath: `a/blobs/${shared}`, digest: shared, size: 4 });
  await store.cacheEntries.upsert({ ...write, upstreamId: two, relativePath: `a/blobs/${shared}`, digest: shared, size: 4 });
  markPending(store, (e) => e.upstreamId === one);
  return { own, shared };
}

/** Polls the job until the worker finished it. */
/** The job once it ended, polled for up to 10 s (a busy machine runs the worker late). */
async function finished(id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const job = (await call('GET', `/jobs/${id}`)).json();
    if (job.state === 'succeeded' || job.state === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: still ${job.state}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('POST /gc', () => {
  it('answers 202 with a queued gc job; a dry run reports what would be freed and deletes nothing', async () => {
    const { own, shared } = await cacheWithPendingEntries();
    const res = await call('POST', '/gc', { dry_run: true });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ kind: 'gc', state: 'queued', registry_id: null, params: { dry_run: true } });
    const job = await finished(res.json().id);
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { dry_run: true, objects_would_delete: 1, bytes_would_free: 17, digests: [own] },
    });
    expect(await blobs.stat(own)).toBeDefined();
    expect(await blobs.stat(shared)).toBeDefined();
  });

  it('destroys pending entries and deletes the objects no live entry references, keeping shared ones', async () => {
    const { own, shared } = await cacheWithPendingEntries();
    const res = await call('POST', '/gc', {});
    expect(res.json()).toMatchObject({ params: { dry_run: false } });
    const job = await finished(res.json().id);
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { dry_run: false, objects_deleted: 1, bytes_freed: 17, digests: [own], entries_destroyed: 2 },
      progress: { objects_done: 1, objects_total: 1, bytes_done: 17, bytes_total: 17 },
      errors: [],
    });
    expect(job.finished_at).toEqual(expect.any(String));
    expect(await blobs.stat(own)).toBeUndefined();
    expect(await blobs.stat(shared)).toBeDefined();
  });

  it('lists the objects it could not delete as job errors and keeps them for a later run', async () => {
    const { own } = await cacheWithPendingEntries();
    blobs.delete = async () => Promise.reject(new Error('S3 unavailable'));
    const job = await finished((await call('POST', '/gc', { dry_run: false })).json().id);
    expect(job).toMatchObject({
      state: 'succeeded',
      errors: [`${own}: S3 unavailable`],
      result: { objects_deleted: 0, bytes_freed: 0, digests: [] },
    });
    expect(await blobs.stat(own)).toBeDefined();
    expect(await store.gcCandidates.get(own)).toMatchObject({ state: 'deleting' });
  });

  it('refuses a body that is not { dry_run: boolean } with 400, and a missing token with 401', async () => {
    expect((await call('POST', '/gc', { dry_run: 'yes' })).statusCode).toBe(400);
    expect((await call('POST', '/gc', { dry_run: true, extra: 1 })).statusCode).toBe(400);
    expect((await call('POST', '/gc', { dry_run: true }, 'wrong-token-0123456789')).statusCode).toBe(401);
    expect((await store.jobs.list({ kind: 'gc' }, { page: 1, perPage: 10 })).total).toBe(0);
  });
});
