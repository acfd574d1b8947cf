import { Streams } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nakDelayMs } from '../handle-delivery.ts';
import { sleep, testSpec, testStream, waitFor } from '../testing/bus-test-kit.ts';
import { describeEventBus } from '../testing/describe-event-bus.ts';
import { MemoryEventBus } from './memory-event-bus.ts';
import { MemoryStream, subjectMatches } from './memory-stream.ts';

describeEventBus('memory', async () => {
  const bus = new MemoryEventBus();
  return { bus, cleanup: () => bus.close() };
});

describe('MemoryEventBus', () => {
  it('keeps dead letters inspectable in deadLetters', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([testStream]);
    await bus.consume(testSpec(), async () => undefined);
    await bus.publish('vreg.test.a', { eventId: 7 }, { headers: { traceparent: 't' } });
    await waitFor(() => bus.deadLetters.length === 1);
    expect(bus.deadLetters[0]).toMatchObject({
      subject: 'vreg.dead.vreg.test.a',
      originalSubject: 'vreg.test.a',
      stream: testStream.name,
      consumer: 'contract',
      payload: '{"eventId":7}',
      deliveryCount: 1,
    });
    await bus.close();
  });

  it('hands each handler its own copy of the payload', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([{ name: 'OBJ', subjects: ['vreg.obj'] }]);
    const payload = { list: [1] };
    const got: unknown[] = [];
    await bus.consume({ stream: 'OBJ', consumer: 'c', subject: 'vreg.obj', schema: z.object({ list: z.array(z.number()) }) }, async (d) => {
      got.push(d.data);
    });
    await bus.publish('vreg.obj', payload);
    payload.list.push(2);
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ list: [1] });
    await bus.close();
  });

  it('delivers to a durable consumer the messages published before it was first used', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([testStream]);
    await bus.publish('vreg.test.a', { eventId: 'early', n: 1 });
    const got: string[] = [];
    await bus.consume(testSpec(), async (d) => {
      got.push(d.data.eventId);
    });
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['early']);
    await bus.close();
  });

  it('forgets a msgId once the dedup window has passed', async () => {
    const bus = new MemoryEventBus({ duplicateWindowMs: 50 });
    await bus.ensureStreams([testStream]);
    expect(await bus.publish('vreg.test.a', { eventId: 'a', n: 1 }, { msgId: 'x' })).toEqual({ duplicate: false });
    await sleep(80);
    expect(await bus.publish('vreg.test.a', { eventId: 'a', n: 1 }, { msgId: 'x' })).toEqual({ duplicate: false });
    await bus.close();
  });

  it('always declares the dead-letter stream', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([]);
    await expect(bus.publish(`${Streams.dead.subjects[0].slice(0, -1)}x`, {})).resolves.toEqual({ duplicate: false });
    await bus.close();
  });
});

describe('MemoryStream bounds and retention, as JetStream keeps them', () => {
  const limits = { maxAgeMs: 60_000, maxMessages: 3, maxBytes: 1000, duplicateWindowMs: 1000 };

  it('drops the oldest messages past the message bound or the byte bound', () => {
    const byCount = new MemoryStream('S', ['s.>'], 'limits', limits);
    for (let n = 1; n <= 5; n += 1) byCount.append('s.a', `{"n":${n}}`, {}, undefined);
    expect([byCount.size, byCount.firstSeq, byCount.lastSeq]).toEqual([3, 3, 5]);
    const bySize = new MemoryStream('S', ['s.>'], 'limits', { ...limits, maxMessages: 100 });
    for (let n = 1; n <= 5; n += 1) bySize.append('s.a', 'x'.repeat(300), {}, undefined);
    expect([bySize.size, bySize.bytes, bySize.firstSeq]).toEqual([3, 900, 3]);
  });

  it('forgets a done message in a work queue, keeps it within limits otherwise', () => {
    const work = new MemoryStream('W', ['w.>'], 'workqueue', limits);
    const events = new MemoryStream('E', ['e.>'], 'limits', limits);
    for (const s of [work, events]) {
      s.append(`${s.subjects[0]?.[0]}.a`, '{}', {}, undefined);
      s.append(`${s.subjects[0]?.[0]}.a`, '{}', {}, undefined);
      s.done(2);
      s.done(1);
    }
    expect([work.size, work.bytes, work.firstSeq]).toEqual([0, 0, 3]);
    expect(events.size).toBe(2);
  });

  it('drops a command from the bus once its consumer acked it', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([Streams.fetch]);
    const done: number[] = [];
    await bus.consume(
      { stream: Streams.fetch.name, consumer: 'fetcher', subject: 'vreg.fetch.requested', schema: z.object({ n: z.number() }) },
      async (d) => void done.push(d.data.n),
    );
    await bus.publish('vreg.fetch.requested', { n: 1 });
    await waitFor(() => done.length === 1);
    await waitFor(() => bus.streamSize(Streams.fetch.name) === 0, 5_000, 'the acked command gone');
    await bus.close();
  });
});

describe('nakDelayMs', () => {
  it('doubles from the base and caps at 60 s', () => {
    expect([1, 2, 3, 4].map((n) => nakDelayMs(500, n))).toEqual([500, 1000, 2000, 4000]);
    expect(nakDelayMs(500, 30)).toBe(60_000);
  });
});

describe('subjectMatches', () => {
  it('follows NATS wildcard rules', () => {
    expect(subjectMatches('vreg.test.>', 'vreg.test.a.b')).toBe(true);
    expect(subjectMatches('vreg.test.>', 'vreg.test')).toBe(false);
    expect(subjectMatches('vreg.*.a', 'vreg.x.a')).toBe(true);
    expect(subjectMatches('vreg.*.a', 'vreg.x.b')).toBe(false);
    expect(subjectMatches('vreg.fetch.requested', 'vreg.fetch.requested')).toBe(true);
    expect(subjectMatches('vreg.fetch', 'vreg.fetch.requested')).toBe(false);
  });
});
