import { MemoryEventBus } from '@vreg/bus';
import { Subjects, type UpstreamFailed, UpstreamFailedSchema } from '@vreg/contracts';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redactUrls, UpstreamFailureBroadcaster } from './upstream-failure-broadcaster.ts';
import { VregMetrics } from './vreg-metrics.ts';

const logger = pino({ level: 'silent' });

async function listening(): Promise<{ bus: MemoryEventBus; heard: UpstreamFailed[] }> {
  const bus = new MemoryEventBus({ logger });
  const heard: UpstreamFailed[] = [];
  await bus.listen(Subjects.upstreamFailed, UpstreamFailedSchema, (m) => heard.push(m));
  return { bus, heard };
}

describe('UpstreamFailureBroadcaster', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('broadcasts the first failure of an upstream at once, then at most one per second carrying the count held back', async () => {
    const { bus, heard } = await listening();
    const metrics = VregMetrics.noop();
    const broadcaster = new UpstreamFailureBroadcaster({ bus, logger });
    broadcaster.start(metrics);
    for (let i = 0; i < 50; i++) metrics.upstreamFailed('127.0.0.1:1', 'ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:1 (${i})`);
    metrics.upstreamFailed('other.example', 'ETIMEDOUT', 'timeout');
    expect(heard).toEqual([
      { upstream: '127.0.0.1:1', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1 (0)', count: 1 },
      { upstream: 'other.example', code: 'ETIMEDOUT', message: 'timeout', count: 1 },
    ]);
    await vi.advanceTimersByTimeAsync(999);
    expect(heard).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(heard).toHaveLength(3);
    expect(heard[2]).toEqual({
      upstream: '127.0.0.1:1',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:1 (49)',
      count: 49,
    });
    // Nothing more held back: no further broadcast.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(heard).toHaveLength(3);
    broadcaster.stop();
  });

  it('sends what it holds back when stopped, and hears no failure after', async () => {
    const { bus, heard } = await listening();
    const metrics = VregMetrics.noop();
    const broadcaster = new UpstreamFailureBroadcaster({ bus, logger });
    broadcaster.start(metrics);
    metrics.upstreamFailed('u.example', 'E1', 'one');
    metrics.upstreamFailed('u.example', 'E2', 'two');
    broadcaster.stop();
    metrics.upstreamFailed('u.example', 'E3', 'three');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(heard.map((m) => [m.code, m.count])).toEqual([
      ['E1', 1],
      ['E2', 1],
    ]);
  });

  it('sends no credentials or queries of URLs in messages, and keeps every field within the contract', async () => {
    const { bus, heard } = await listening();
    const broadcaster = new UpstreamFailureBroadcaster({ bus, logger });
    broadcaster.failed(
      'h'.repeat(300),
      'C'.repeat(100),
      `GET https://bob:s3cret@cdn.example/blob?X-Amz-Signature=abc failed ${'x'.repeat(500)}`,
    );
    expect(heard).toHaveLength(1);
    expect(heard[0]!.message).not.toMatch(/s3cret|Signature/);
    expect(heard[0]!.message.startsWith('GET https://cdn.example/blob failed')).toBe(true);
    expect(UpstreamFailedSchema.safeParse(heard[0]).success).toBe(true);
  });

  it('keeps broadcasting after the bus refused one', async () => {
    const sent: unknown[] = [];
    let fail = true;
    const bus = {
      broadcast: async (_s: string, p: unknown) => {
        if (fail) throw new Error('nats down');
        sent.push(p);
      },
    };
    const broadcaster = new UpstreamFailureBroadcaster({ bus, logger });
    broadcaster.failed('u.example', 'E', 'first');
    await vi.advanceTimersByTimeAsync(1_000);
    fail = false;
    broadcaster.failed('u.example', 'E', 'second');
    expect(sent).toEqual([{ upstream: 'u.example', code: 'E', message: 'second', count: 1 }]);
  });
});

describe('redactUrls', () => {
  it('cuts user-info and queries from URLs, leaving other text', () => {
    expect(redactUrls('fetch http://a:b@h:5000/v2/x?token=t#f and https://h2/p')).toBe('fetch http://h:5000/v2/x and https://h2/p');
  });
});
