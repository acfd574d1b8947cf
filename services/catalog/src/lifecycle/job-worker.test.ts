import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { JobWorker } from './job-worker.ts';

const logger = createLogger({ level: 'silent', name: 'job-worker-test' });

describe('JobWorker', () => {
  it('runs queued jobs of its kinds once, recording progress, result and end state; leaves other kinds queued', async () => {
    const store = new MemoryCatalogStore();
    const purge = await store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    const gc = await store.jobs.create({ kind: 'gc', registryId: null, params: {} });
    const worker = new JobWorker({
      jobs: store.jobs,
      handlers: {
        purge: async (job, reporter) => {
          expect(job.state).toBe('running');
          await reporter.progress({ objectsTotal: 2, objectsDone: 2 });
          await reporter.error('one entry was gone already');
          return { entries_marked: 2 };
        },
      },
      logger,
      pollIntervalMs: 0,
    });
    expect(await worker.runQueued()).toBe(1);
    expect(await worker.runQueued()).toBe(0);
    const done = await store.jobs.get(purge.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { entries_marked: 2 },
      errors: ['one entry was gone already'],
      progress: { objectsDone: 2, objectsTotal: 2 },
    });
    expect(done?.startedAt).toBeInstanceOf(Date);
    expect(done?.finishedAt).toBeInstanceOf(Date);
    expect((await store.jobs.get(gc.id))?.state).toBe('queued');
  });

  it('fails a job whose handler throws, with the message, and goes on with the next', async () => {
    const store = new MemoryCatalogStore();
    const first = await store.jobs.create({ kind: 'cleanup', registryId: '1', params: {} });
    const second = await store.jobs.create({ kind: 'cleanup', registryId: '1', params: {} });
    let calls = 0;
    const worker = new JobWorker({
      jobs: store.jobs,
      handlers: {
        cleanup: async () => {
          calls += 1;
          if (calls === 1) throw new Error('store unavailable');
          return {};
        },
      },
      logger,
      pollIntervalMs: 0,
    });
    expect(await worker.runQueued()).toBe(2);
    expect(await store.jobs.get(first.id)).toMatchObject({ state: 'failed', errors: ['store unavailable'] });
    expect((await store.jobs.get(first.id))?.finishedAt).toBeInstanceOf(Date);
    expect((await store.jobs.get(second.id))?.state).toBe('succeeded');
  });

  it('runs a job queued after start when woken, and two workers never run the same job', async () => {
    const store = new MemoryCatalogStore();
    const ran: string[] = [];
    const handler = async (job: { id: string }) => {
      ran.push(job.id);
      await new Promise((r) => setTimeout(r, 5));
      return {};
    };
    const workers = [0, 1].map(() => new JobWorker({ jobs: store.jobs, handlers: { purge: handler }, logger, pollIntervalMs: 0 }));
    for (const w of workers) w.start();
    for (let i = 0; i < 6; i += 1) await store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    for (const w of workers) w.wake();
    await expect
      .poll(async () => (await store.jobs.list({ state: 'succeeded' }, { page: 1, perPage: 10 })).total, { timeout: 3000 })
      .toBe(6);
    await Promise.all(workers.map((w) => w.stop()));
    expect([...ran].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('finishes the job in progress on stop but claims no more', async () => {
    const store = new MemoryCatalogStore();
    for (let i = 0; i < 3; i += 1) await store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    let release: () => void = () => {};
    let markStarted: () => void = () => {};
    const started = new Promise<void>((r) => (markStarted = r));
    const worker = new JobWorker({
      jobs: store.jobs,
      handlers: {
        purge: () => {
          markStarted();
          return new Promise((r) => (release = () => r({})));
        },
      },
      logger,
      pollIntervalMs: 0,
    });
    worker.start();
    await started;
    const stopping = worker.stop();
    release();
    await stopping;
    const states = (await store.jobs.list({}, { page: 1, perPage: 10 })).items.map((j) => j.state).sort();
    expect(states).toEqual(['queued', 'queued', 'succeeded']);
  });

  it('fails a running job of its kinds that nobody touched for staleAfterMs (its process died), leaving fresh ones and other kinds', async () => {
    const store = new MemoryCatalogStore();
    const abandoned = await store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    await store.jobs.claimQueued('purge', new Date());
    const warm = await store.jobs.create({ kind: 'warm', registryId: '1', params: {} });
    await store.jobs.claimQueued('warm', new Date());
    let now = new Date(Date.now() + 60_000);
    const worker = new JobWorker({
      jobs: store.jobs,
      handlers: { purge: async () => ({}) },
      logger,
      pollIntervalMs: 0,
      staleAfterMs: 10 * 60_000,
      now: () => now,
    });
    // A minute without news is not abandoned.
    expect(await worker.failAbandoned()).toBe(0);
    now = new Date(Date.now() + 11 * 60_000);
    expect(await worker.failAbandoned()).toBe(1);
    const failed = await store.jobs.get(abandoned.id);
    expect(failed).toMatchObject({ state: 'failed', errors: [expect.stringContaining('abandoned')] });
    expect(failed?.finishedAt).toEqual(now);
    expect((await store.jobs.get(warm.id))?.state).toBe('running');
    expect(await worker.failAbandoned()).toBe(0);
  });
});
