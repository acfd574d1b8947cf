import { randomUUID } from 'node:crypto';
import { Subjects, type WarmProgress } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryJobRepository } from '../adapters/memory/memory-job-repository.ts';
import { WarmProgressConsumer } from '../consumers/warm-progress-consumer.ts';
import type { JobRepository } from '../ports/job-repository.ts';
import { WarmJobWatchdog } from './warm-job-watchdog.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const ABANDON_MS = 60_000;
const QUEUED_ABANDON_MS = 600_000;

/** Jobs, the consumer and two replicas' watchdogs; `advance` moves the (faked) clock they all read. */
async function setup(jobs: JobRepository = new MemoryJobRepository()) {
  const watchdog = (): WarmJobWatchdog =>
    new WarmJobWatchdog({ jobs, logger, settings: { abandonMs: ABANDON_MS, queuedAbandonMs: QUEUED_ABANDON_MS } });
  const consumer = new WarmProgressConsumer({ jobs, logger });
  const job = await jobs.create({ kind: 'warm', registryId: '1', params: { image: 'library/x', tag: 'latest', platforms: 'all' } });
  const report = (patch: Partial<WarmProgress> = {}) =>
    consumer.handle({
      subject: Subjects.warmProgress,
      data: {
        eventId: randomUUID(),
        jobId: job.id,
        registryId: '1',
        state: 'running',
        objectsDone: 0,
        bytesDone: 0,
        errors: [],
        at: new Date().toISOString(),
        ...patch,
      },
      deliveryCount: 1,
      headers: {},
      working: () => undefined,
    });
  return {
    jobs,
    job,
    report,
    watchdog: watchdog(),
    watchdog2: watchdog(),
    advance: (ms: number) => vi.setSystemTime(Date.now() + ms),
    get: async () => (await jobs.get(job.id))!,
  };
}

describe('the abandoned-warm watchdog', () => {
  // Only Date is faked: timers and the stores' promises run as usual.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a running warm no snapshot reached for the deadline, saying why and what to do', async () => {
    const s = await setup();
    await s.report({ objectsDone: 2, objectsTotal: 9 });
    s.advance(ABANDON_MS - 1000);
    expect(await s.watchdog.sweep()).toBe(0);
    expect((await s.get()).state).toBe('running');
    s.advance(1000);
    expect(await s.watchdog.sweep()).toBe(1);
    const job = await s.get();
    expect(job.state).toBe('failed');
    expect(job.finishedAt).not.toBeNull();
    expect(job.errors).toEqual(['abandoned: no progress report from any fetcher for 60 s; run the warm again']);
    expect(job.progress.objectsDone).toBe(2);
  });

  it('keeps a warm whose fetcher sends heartbeats without any change alive', async () => {
    const s = await setup();
    await s.report({ objectsDone: 3 });
    for (let i = 0; i < 5; i += 1) {
      s.advance(ABANDON_MS - 1000);
      // The same counters again: a heartbeat during a long layer.
      expect(await s.report({ objectsDone: 3 })).toBe(true);
      s.advance(ABANDON_MS - 1000);
      expect(await s.watchdog.sweep()).toBe(0);
    }
    expect((await s.get()).state).toBe('running');
  });

  it('lets a redelivered command resume the warm before the deadline (a fetcher crashed mid-warm)', async () => {
    const s = await setup();
    await s.report({ objectsDone: 4, objectsTotal: 9 });
    // Silence: the fetcher died; the command comes back after the ack wait, well within the deadline.
    s.advance(ABANDON_MS / 2);
    expect(await s.watchdog.sweep()).toBe(0);
    // The new attempt reports at once, counting anew (fewer objects than the job shows): still proof of life.
    await s.report({ objectsDone: 0 });
    s.advance(ABANDON_MS / 2 + 1000);
    // Past the first snapshot's deadline, not past the resumed one's.
    expect(await s.watchdog.sweep()).toBe(0);
    expect(await s.report({ state: 'succeeded', objectsDone: 9, objectsTotal: 9 })).toBe(true);
    expect((await s.get()).state).toBe('succeeded');
  });

  it('does not let a late snapshot resurrect an abandoned warm', async () => {
    const s = await setup();
    await s.report({ objectsDone: 1 });
    s.advance(ABANDON_MS);
    await s.watchdog.sweep();
    const failed = await s.get();
    expect(await s.report({ objectsDone: 5 })).toBe(false);
    expect(await s.report({ state: 'succeeded', objectsDone: 9 })).toBe(false);
    expect(await s.get()).toEqual(failed);
  });

  it('gives a queued warm (no fetcher started it) the longer queued deadline', async () => {
    const s = await setup();
    s.advance(ABANDON_MS * 2);
    expect(await s.watchdog.sweep()).toBe(0);
    expect((await s.get()).state).toBe('queued');
    s.advance(QUEUED_ABANDON_MS);
    expect(await s.watchdog.sweep()).toBe(1);
    expect(await s.get()).toMatchObject({
      state: 'failed',
      startedAt: null,
      errors: [expect.stringMatching(/^abandoned: no fetcher started this warm within 600 s/)],
    });
  });

  it('fails an abandoned warm once when several catalog replicas sweep at the same time', async () => {
    const s = await setup();
    await s.report({});
    s.advance(ABANDON_MS);
    const counts = await Promise.all([s.watchdog.sweep(), s.watchdog2.sweep()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await s.get()).errors).toHaveLength(1);
  });

  it('leaves jobs of other kinds to the job worker', async () => {
    const s = await setup();
    const purge = await s.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    await s.jobs.update(purge.id, { state: 'running' });
    s.advance(QUEUED_ABANDON_MS * 2);
    await s.watchdog.sweep();
    expect((await s.jobs.get(purge.id))?.state).toBe('running');
  });

  it('gives every job a full deadline from its own start, so a restarted catalog applies the waiting snapshots first', async () => {
    const s = await setup();
    await s.report({});
    s.advance(ABANDON_MS * 3);
    s.watchdog.start();
    try {
      expect(await s.watchdog.sweep()).toBe(0);
      s.advance(ABANDON_MS);
      expect(await s.watchdog.sweep()).toBe(1);
    } finally {
      await s.watchdog.stop();
    }
  });

  it('sweeps on its own timer once started', async () => {
    vi.useRealTimers();
    const jobs = new MemoryJobRepository();
    const job = await jobs.create({ kind: 'warm', registryId: '1', params: {} });
    await jobs.update(job.id, { state: 'running' });
    const watchdog = new WarmJobWatchdog({ jobs, logger, settings: { abandonMs: 200, queuedAbandonMs: 1000 } });
    watchdog.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((await jobs.get(job.id))?.state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect((await jobs.get(job.id))?.errors).toEqual(['abandoned: no progress report from any fetcher for 0.2 s; run the warm again']);
    } finally {
      await watchdog.stop();
    }
  });
});
