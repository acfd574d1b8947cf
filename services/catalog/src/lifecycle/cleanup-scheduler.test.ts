import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { SqliteCatalogStore } from '../adapters/sqlite/sqlite-catalog-store.ts';
import { DAY_MS } from '../domain/cleanup-policy.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { CleanupPolicies } from './cleanup-policies.ts';
import { CleanupScheduler } from './cleanup-scheduler.ts';
import { JobWorker } from './job-worker.ts';

const logger = createLogger({ level: 'silent', name: 'cleanup-scheduler-test' });
const root = mkdtempSync(join(tmpdir(), 'vreg-cleanup-scheduler-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const stores: Array<[string, () => Promise<CatalogStore>]> = [
  ['memory', async () => new MemoryCatalogStore()],
  ['sqlite', async () => SqliteCatalogStore.open({ dataDir: join(root, `db-${Math.random().toString(36).slice(2)}`) })],
];

describe.each(stores)('CleanupScheduler (%s store)', (_label, open) => {
  it('queues one cleanup job for a due policy when two schedulers race, and moves next_run_at a cadence ahead', async () => {
    const store = await open();
    try {
      const registry = await store.registries.create({ name: 'r' });
      let now = new Date('2030-01-01T00:00:00.000Z');
      const cleanup = new CleanupPolicies({ store, now: () => now });
      await cleanup.put(registry.id, { enabled: true, keepNDaysAfterDownload: 7, cadence: 1 });
      const schedulers = [0, 1].map(
        () => new CleanupScheduler({ policies: store.cleanupPolicies, cleanup, logger, intervalMs: 0, now: () => now }),
      );
      // Not due yet.
      expect((await Promise.all(schedulers.map((s) => s.tick()))).flat()).toEqual([]);
      now = new Date(now.getTime() + DAY_MS);
      const queued = (await Promise.all(schedulers.map((s) => s.tick()))).flat();
      expect(queued).toHaveLength(1);
      expect(queued[0]).toMatchObject({
        kind: 'cleanup',
        state: 'queued',
        registryId: registry.id,
        params: { registry_id: registry.id, trigger: 'schedule' },
      });
      expect((await store.cleanupPolicies.get(registry.id))?.nextRunAt).toEqual(new Date(now.getTime() + DAY_MS));
      expect((await Promise.all(schedulers.map((s) => s.tick()))).flat()).toEqual([]);
      expect((await store.jobs.list({ kind: 'cleanup' }, { page: 1, perPage: 10 })).total).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('skips disabled policies', async () => {
    const store = await open();
    try {
      const registry = await store.registries.create({ name: 'r' });
      const cleanup = new CleanupPolicies({ store, now: () => new Date('2030-01-01T00:00:00.000Z') });
      await cleanup.put(registry.id, { enabled: false, keepNDaysAfterDownload: 7, cadence: 1 });
      const scheduler = new CleanupScheduler({
        policies: store.cleanupPolicies,
        cleanup,
        logger,
        intervalMs: 0,
        now: () => new Date('2031-01-01T00:00:00.000Z'),
      });
      expect(await scheduler.tick()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('runs a scheduled cleanup end to end: only entries idle longer than the window are marked', async () => {
    const store = await open();
    try {
      const registry = await store.registries.create({ name: 'r' });
      const upstream = await store.upstreams.create({
        registryId: registry.id,
        name: 'u',
        url: 'https://u.example',
        cacheValidityHours: 24,
      });
      for (const [path, daysAgo] of [
        ['old/blobs/1', 8],
        ['recent/blobs/2', 6],
        ['edge/blobs/3', 7.01],
      ] as const) {
        await store.cacheEntries.upsert({
          upstreamId: upstream.id,
          registryId: registry.id,
          relativePath: path,
          digest: `sha256:${'a'.repeat(64)}`,
          contentType: 'x',
          size: 10,
          upstreamCheckedAt: new Date(),
        });
        await store.cacheEntries.recordDownloads(upstream.id, path, 1, new Date(Date.now() - daysAgo * DAY_MS));
      }
      const cleanup = new CleanupPolicies({ store });
      await cleanup.put(registry.id, { enabled: true, keepNDaysAfterDownload: 7, cadence: 7 });
      const job = await cleanup.runNow(registry.id);
      const worker = new JobWorker({ jobs: store.jobs, handlers: { cleanup: cleanup.handler }, logger, pollIntervalMs: 0 });
      expect(await worker.runQueued()).toBe(1);
      const pending = (await store.cacheEntries.findAll({ status: 'pending_destruction' })).map((e) => e.relativePath).sort();
      expect(pending).toEqual(['edge/blobs/3', 'old/blobs/1']);
      expect(await store.jobs.get(job.id)).toMatchObject({ state: 'succeeded', result: { deleted_entries_count: 2, deleted_size: 20 } });
      expect(await store.cleanupPolicies.get(registry.id)).toMatchObject({
        status: 'scheduled',
        lastRunDeletedEntriesCount: 2,
        lastRunDeletedSize: 20,
      });
      expect((await store.cleanupPolicies.listRuns(registry.id, { page: 1, perPage: 5 })).items).toEqual([
        expect.objectContaining({ jobId: job.id, deletedEntriesCount: 2, status: 'succeeded' }),
      ]);
    } finally {
      await store.close();
    }
  });
});
