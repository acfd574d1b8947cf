import { MemoryEventBus } from '@vreg/bus';
import { Streams, Subjects, WarmProgressSchema, type WarmProgress } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { WarmProgressReporter } from './warm-progress.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

describe('WarmProgressReporter', () => {
  it('cuts an overlong error message so the failed snapshot stays valid and reaches the catalog', async () => {
    const bus = new MemoryEventBus({ logger });
    await bus.ensureStreams(Object.values(Streams));
    const received: WarmProgress[] = [];
    const sub = await bus.consume({ stream: Streams.warmProgress.name, consumer: 't', subject: Subjects.warmProgress, schema: WarmProgressSchema }, async ({ data }) => {
      received.push(data);
    });
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
});
