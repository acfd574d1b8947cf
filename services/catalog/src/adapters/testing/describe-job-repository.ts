import { describe, expect, it } from 'vitest';
import { MAX_JOB_ERRORS } from '../../domain/job.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import { tick } from './tick.ts';

/** Job part of the `CatalogStore` contract. */
export function describeJobRepository(store: () => CatalogStore): void {
  describe('jobs', () => {
    it('creates a queued job with empty progress and finds it by id', async () => {
      const job = await store().jobs.create({ kind: 'purge', registryId: '3', params: { registry_id: '3', image: 'library/alpine' } });
      expect(job).toMatchObject({
        kind: 'purge',
        state: 'queued',
        registryId: '3',
        params: { registry_id: '3', image: 'library/alpine' },
        progress: { objectsDone: 0, objectsTotal: null, bytesDone: 0, bytesTotal: null },
        result: null,
        errors: [],
        startedAt: null,
        finishedAt: null,
      });
      expect(job.id).toMatch(/^[1-9][0-9]*$/);
      expect(await store().jobs.get(job.id)).toEqual(job);
      expect(await store().jobs.get('999')).toBeUndefined();
      expect(await store().jobs.get('nope')).toBeUndefined();
    });

    it('keeps a store-wide job apart from one of a registry', async () => {
      const gc = await store().jobs.create({ kind: 'gc', registryId: null, params: { dry_run: true } });
      expect((await store().jobs.get(gc.id))?.registryId).toBeNull();
    });

    it('walks a job through its life: running, progress merged, errors appended, result, finished', async () => {
      const job = await store().jobs.create({ kind: 'cleanup', registryId: '1', params: {} });
      const started = new Date('2030-01-01T00:00:00.000Z');
      await tick();
      const running = await store().jobs.update(job.id, {
        state: 'running',
        startedAt: started,
        progress: { objectsTotal: 10, bytesTotal: 1000 },
      });
      expect(running).toMatchObject({
        state: 'running',
        startedAt: started,
        progress: { objectsDone: 0, objectsTotal: 10, bytesDone: 0, bytesTotal: 1000 },
      });
      expect(running?.updatedAt.getTime()).toBeGreaterThan(job.updatedAt.getTime());
      await store().jobs.update(job.id, { progress: { objectsDone: 4, bytesDone: 400 }, appendErrors: ['first'] });
      await store().jobs.update(job.id, { appendErrors: ['second', 'third'] });
      const finished = new Date('2030-01-01T00:01:00.000Z');
      const done = await store().jobs.update(job.id, {
        state: 'succeeded',
        finishedAt: finished,
        result: { deleted_entries_count: 4, nested: { a: [1, 2] } },
      });
      expect(done).toMatchObject({
        state: 'succeeded',
        progress: { objectsDone: 4, objectsTotal: 10, bytesDone: 400, bytesTotal: 1000 },
        errors: ['first', 'second', 'third'],
        result: { deleted_entries_count: 4, nested: { a: [1, 2] } },
        startedAt: started,
        finishedAt: finished,
      });
      expect(await store().jobs.get(job.id)).toEqual(done);
      expect(await store().jobs.update('4242', { state: 'failed' })).toBeUndefined();
    });

    it('applies a conditional update only while the job is as the caller read it', async () => {
      const job = await store().jobs.create({ kind: 'warm', registryId: '1', params: {} });
      await tick();
      const running = await store().jobs.update(job.id, { state: 'running' });
      // Read before the job moved on: refused, nothing written.
      expect(await store().jobs.updateIfUnchanged(job.id, job, { state: 'failed', appendErrors: ['stale'] })).toBeUndefined();
      expect(await store().jobs.get(job.id)).toMatchObject({ state: 'running', errors: [] });
      await tick();
      const failed = await store().jobs.updateIfUnchanged(job.id, running as NonNullable<typeof running>, {
        state: 'failed',
        appendErrors: ['abandoned'],
      });
      expect(failed).toMatchObject({ state: 'failed', errors: ['abandoned'] });
      // A second replica that read the same running job loses.
      expect(
        await store().jobs.updateIfUnchanged(job.id, running as NonNullable<typeof running>, {
          state: 'failed',
          appendErrors: ['abandoned'],
        }),
      ).toBeUndefined();
      expect(await store().jobs.get(job.id)).toMatchObject({ state: 'failed', errors: ['abandoned'] });
      expect(await store().jobs.updateIfUnchanged('4242', job, {})).toBeUndefined();
    });

    it(`keeps at most ${MAX_JOB_ERRORS} errors`, async () => {
      const job = await store().jobs.create({ kind: 'warm', registryId: '1', params: {} });
      await store().jobs.update(job.id, { appendErrors: Array.from({ length: 60 }, (_, i) => `e${i}`) });
      const after = await store().jobs.update(job.id, { appendErrors: Array.from({ length: 60 }, (_, i) => `f${i}`) });
      expect(after?.errors).toHaveLength(MAX_JOB_ERRORS);
      expect(after?.errors[0]).toBe('e0');
      expect((await store().jobs.get(job.id))?.errors).toHaveLength(MAX_JOB_ERRORS);
    });

    it('lists newest first, filtered by kind, registry and state, a page at a time with the total', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await store().jobs.create({ kind: 'purge', registryId: '7', params: { i } })).id);
      await store().jobs.create({ kind: 'gc', registryId: null, params: {} });
      await store().jobs.create({ kind: 'purge', registryId: '8', params: {} });
      const page = await store().jobs.list({ kind: 'purge', registryId: '7' }, { page: 2, perPage: 2 });
      expect(page.total).toBe(5);
      expect(page.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
      expect((await store().jobs.list({}, { page: 1, perPage: 100 })).total).toBe(7);
      expect((await store().jobs.list({ kind: 'gc' }, { page: 1, perPage: 100 })).items.map((j) => j.kind)).toEqual(['gc']);
      await store().jobs.update(ids[0] as string, { state: 'succeeded' });
      expect((await store().jobs.list({ state: 'succeeded' }, { page: 1, perPage: 10 })).items.map((j) => j.id)).toEqual([ids[0]]);
      expect((await store().jobs.list({ registryId: 'x' }, { page: 1, perPage: 10 })).total).toBe(0);
    });

    it('lists only the jobs of the registries a filter names, never store-wide ones, counting after the filter', async () => {
      const seven: string[] = [];
      for (let i = 0; i < 3; i += 1) seven.push((await store().jobs.create({ kind: 'purge', registryId: '7', params: {} })).id);
      await store().jobs.create({ kind: 'gc', registryId: null, params: {} });
      const eight = (await store().jobs.create({ kind: 'cleanup', registryId: '8', params: {} })).id;
      await store().jobs.create({ kind: 'purge', registryId: '9', params: {} });
      const reach = { registryIds: ['7', '8', 'junk'] };
      const first = await store().jobs.list(reach, { page: 1, perPage: 3 });
      expect(first.total).toBe(4);
      expect(first.items.map((j) => j.id)).toEqual([eight, seven[2], seven[1]]);
      expect((await store().jobs.list(reach, { page: 2, perPage: 3 })).items.map((j) => j.id)).toEqual([seven[0]]);
      expect((await store().jobs.list({ ...reach, registryId: '8' }, { page: 1, perPage: 10 })).items.map((j) => j.id)).toEqual([eight]);
      expect((await store().jobs.list({ ...reach, registryId: '9' }, { page: 1, perPage: 10 })).total).toBe(0);
      expect((await store().jobs.list({ ...reach, kind: 'gc' }, { page: 1, perPage: 10 })).total).toBe(0);
      expect(await store().jobs.list({ registryIds: [] }, { page: 1, perPage: 10 })).toEqual({ items: [], total: 0 });
    });

    it('claims the oldest queued job of a kind once, moving it to running', async () => {
      const first = await store().jobs.create({ kind: 'purge', registryId: '1', params: {} });
      await store().jobs.create({ kind: 'cleanup', registryId: '1', params: {} });
      const second = await store().jobs.create({ kind: 'purge', registryId: '1', params: {} });
      const at = new Date('2030-02-02T00:00:00.000Z');
      const claimed = await store().jobs.claimQueued('purge', at);
      expect(claimed).toMatchObject({ id: first.id, state: 'running', startedAt: at });
      expect((await store().jobs.get(first.id))?.state).toBe('running');
      expect((await store().jobs.claimQueued('purge', at))?.id).toBe(second.id);
      expect(await store().jobs.claimQueued('purge', at)).toBeUndefined();
    });

    it('hands each queued job to exactly one of several racing claimers', async () => {
      const created: string[] = [];
      for (let i = 0; i < 3; i += 1) created.push((await store().jobs.create({ kind: 'gc', registryId: null, params: {} })).id);
      const at = new Date();
      const results = await Promise.all(Array.from({ length: 6 }, () => store().jobs.claimQueued('gc', at)));
      const claimedIds = results.filter((j) => j !== undefined).map((j) => j.id);
      expect(new Set(claimedIds).size).toBe(claimedIds.length);
      expect(claimedIds.length).toBeLessThanOrEqual(3);
      // Whatever a racing round left queued is claimed later, once.
      for (let job = await store().jobs.claimQueued('gc', at); job !== undefined; job = await store().jobs.claimQueued('gc', at))
        claimedIds.push(job.id);
      expect([...claimedIds].sort()).toEqual([...created].sort());
    });
  });
}
