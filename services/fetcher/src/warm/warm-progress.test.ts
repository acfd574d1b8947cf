import { MemoryEventBus } from '@vreg/bus';
import { Streams, Subjects, type WarmProgress, WarmProgressSchema } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it, vi } from 'vitest';
import { WarmProgressReporter } from './warm-progress.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
/** How long a snapshot may take to reach the test's consumer on a busy machine. */
const WAIT = { timeout: 10_000, interval: 5 };

describe('WarmProgressReporter', () => {
  it('cuts an overlong error message so the failed snapshot stays valid and reaches the catalog', async () => {
    const bus = new MemoryEventBus({ logger });
    await bus.ensureStreams(Object.values(Streams));
    const received: WarmProgress[] = [];
    const sub = await bus.consume(
      { stream: Streams.warmProgress.name, consumer: 't', subject: Subjects.warmProgress, schema: WarmProgressSchema },
      async ({ data }) => {
        received.push(data);
      },
    );
    const reporter = new WarmProgressReporter(bus, { jobId: '1', registryId: '1' }, logger, 0);
    // e.g. "platform a/b, c/d, ... not in the index; available: ..." with 64 long asked platforms
    reporter.error(`platform ${Array.from({ length: 64 }, (_, i) => `linux/${'x'.repeat(90)}${i}`).join(', ')} not in the index`);
    await reporter.finish('failed');
    await vi.waitFor(() => expect(received.some((p) => p.state === 'failed')).toBe(true), WAIT);
    const failed = received.find((p) => p.state === 'failed');
    expect(failed?.errors).toHaveLength(1);
    expect(failed?.errors[0]?.startsWith('platform linux/')).toBe(true);
    await sub.stop();
    await bus.close();
  });

  it('sends an unchanged running snapshot every heartbeat until the end, then nothing more', async () => {
    const bus = new MemoryEventBus({ logger });
    await bus.ensureStreams(Object.values(Streams));
    const received: WarmProgress[] = [];
    const sub = await bus.consume(
      { stream: Streams.warmProgress.name, consumer: 't', subject: Subjects.warmProgress, schema: WarmProgressSchema, concurrency: 1 },
      async ({ data }) => {
        received.push(data);
      },
    );
    const reporter = new WarmProgressReporter(bus, { jobId: '1', registryId: '1' }, logger, 0, 30);
    await reporter.flush();
    reporter.startHeartbeat();
    // One on start, then one per 30 ms of silence: waited for, since a busy machine runs the timers late.
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(4), WAIT);
    expect(received.every((p) => p.state === 'running' && p.objectsDone === 0)).toBe(true);
    await reporter.finish('succeeded');
    await vi.waitFor(() => expect(received.some((p) => p.state === 'succeeded')).toBe(true), WAIT);
    // Several heartbeats later (a wait a slow machine can only lengthen), snapshots went out in order: nothing after the end state.
    await new Promise((r) => setTimeout(r, 150));
    expect(received.at(-1)?.state).toBe('succeeded');
    expect(received.filter((p) => p.state === 'succeeded')).toHaveLength(1);
    await sub.stop();
    await bus.close();
  });

  it('counts a streaming blob into bytes done and takes it back when settled', async () => {
    const bus = new MemoryEventBus({ logger });
    await bus.ensureStreams(Object.values(Streams));
    const received: WarmProgress[] = [];
    const sub = await bus.consume(
      { stream: Streams.warmProgress.name, consumer: 't', subject: Subjects.warmProgress, schema: WarmProgressSchema, concurrency: 1 },
      async ({ data }) => {
        received.push(data);
      },
    );
    const reporter = new WarmProgressReporter(bus, { jobId: '1', registryId: '1' }, logger, 0, 10_000);
    const blob = reporter.streamingBlob();
    blob.onBytes(400);
    blob.onBytes(600);
    await reporter.flush();
    blob.settle();
    reporter.objectDone(1500, 'downloaded');
    await reporter.flush();
    await reporter.finish('failed');
    await vi.waitFor(() => expect(received).toHaveLength(3), WAIT);
    expect(received.map((p) => p.bytesDone)).toEqual([1000, 1500, 1500]);
    await sub.stop();
    await bus.close();
  });
});
