import { MemoryEventBus } from '@vreg/bus';
import { Streams, Subjects, type WarmProgress, WarmProgressSchema } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { WarmProgressReporter } from './warm-progress.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

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
    const deadline = Date.now() + 2000;
    while (!received.some((p) => p.state === 'failed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
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
    await new Promise((r) => setTimeout(r, 300));
    const beats = received.length;
    // One on start, then one per 30 ms of silence (timers may run late on a busy machine).
    expect(beats).toBeGreaterThanOrEqual(4);
    expect(received.every((p) => p.state === 'running' && p.objectsDone === 0)).toBe(true);
    await reporter.finish('succeeded');
    await new Promise((r) => setTimeout(r, 120));
    // Snapshots go out in order: nothing came after the end state.
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
    const deadline = Date.now() + 2000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received.map((p) => p.bytesDone)).toEqual([1000, 1500, 1500]);
    await sub.stop();
    await bus.close();
  });
});
