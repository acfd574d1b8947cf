import { type Delivery, type EventBus, MemoryEventBus, type MessageHandler } from '@vreg/bus';
import { type EntryServed, type ObjectStored, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { OverviewStats } from '../domain/overview-stats.ts';
import type { EntryServedConsumer } from './entry-served-consumer.ts';
import type { ObjectStoredConsumer } from './object-stored-consumer.ts';
import { OverviewStatsRecorder } from './overview-stats-recorder.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const DIGEST = `sha256:${'7'.repeat(64)}`;
const PATH = `library/alpine/blobs/${DIGEST}`;

/** A bus that hands back the handler it was given, so a test delivers by hand. */
function capturingBus(): { bus: EventBus; handler: () => MessageHandler<unknown> } {
  let captured: MessageHandler<unknown> | undefined;
  const bus = {
    consume: async (_spec: unknown, handler: MessageHandler<unknown>) => {
      captured = handler;
      return { stop: async () => {} };
    },
  } as unknown as EventBus;
  return { bus, handler: () => captured as MessageHandler<unknown> };
}

const delivery = <T>(subject: string, data: T): Delivery<T> => ({ subject, data, deliveryCount: 1, headers: {}, working: () => {} });

let store: MemoryCatalogStore;
let stats: OverviewStats;
let recorder: OverviewStatsRecorder;
beforeEach(async () => {
  store = new MemoryCatalogStore();
  stats = new OverviewStats();
  recorder = new OverviewStatsRecorder({ stats, store, logger });
  await store.cacheEntries.upsert({
    upstreamId: '1',
    registryId: '1',
    relativePath: PATH,
    digest: DIGEST,
    contentType: 'application/octet-stream',
    size: 1000,
    upstreamCheckedAt: new Date(),
  });
});

const stored: ObjectStored = {
  eventId: 'e1',
  registryId: '1',
  upstreamId: '1',
  relativePath: PATH,
  digest: DIGEST,
  contentType: 'application/octet-stream',
  size: 1000,
  upstreamCheckedAt: new Date().toISOString(),
  storedAt: new Date().toISOString(),
};
const served: EntryServed = { eventId: 's1', upstreamId: '1', relativePath: PATH, count: 3, downloadedAt: new Date().toISOString() };

describe('OverviewStatsRecorder', () => {
  it('counts a stored object as a miss with its bytes, after the consumer handled it', async () => {
    const { bus, handler } = capturingBus();
    const handled: string[] = [];
    const consumer = {
      spec: {},
      handle: async (d: Delivery<ObjectStored>) => (handled.push(d.data.eventId), 'inserted'),
    } as unknown as ObjectStoredConsumer;
    await recorder.startObjectStored(bus, consumer);
    await handler()(delivery(Subjects.objectStored, stored));
    expect(handled).toEqual(['e1']);
    expect(stats.overview('1h')).toMatchObject({
      misses: 1,
      bytesFetchedUpstream: 1000,
      topImages: [{ image: 'library/alpine', downloads: 1 }],
    });
  });

  it('does not count an object the consumer dropped', async () => {
    const { bus, handler } = capturingBus();
    await recorder.startObjectStored(bus, { spec: {}, handle: async () => 'dropped' } as unknown as ObjectStoredConsumer);
    await handler()(delivery(Subjects.objectStored, stored));
    expect(stats.overview('1h').misses).toBe(0);
  });

  it('counts served hits with the size the gateway sent, without reading the entry', async () => {
    const { bus, handler } = capturingBus();
    const unread = new OverviewStatsRecorder({
      stats,
      logger,
      store: {
        cacheEntries: {
          findFirst: async () => {
            throw new Error('the entry was read');
          },
        },
      } as unknown as MemoryCatalogStore,
    });
    await unread.startEntryServed(bus, { spec: {}, handle: async () => true } as unknown as EntryServedConsumer);
    await handler()(delivery(Subjects.entryServed, { ...served, size: 700 }));
    expect(stats.overview('1h')).toMatchObject({ hits: 3, bytesServedFromCache: 2100 });
  });

  it('counts served hits of older gateways (no size in the event) with the size the entry has in the store', async () => {
    const { bus, handler } = capturingBus();
    await recorder.startEntryServed(bus, { spec: {}, handle: async () => true } as unknown as EntryServedConsumer);
    await handler()(delivery(Subjects.entryServed, served));
    expect(stats.overview('1h')).toMatchObject({ hits: 3, bytesServedFromCache: 3000 });
  });

  it('records upstream failure broadcasts with their counts, and drops malformed ones', async () => {
    const bus = new MemoryEventBus({ logger });
    const subscription = await recorder.listenUpstreamFailed(bus);
    await bus.broadcast(Subjects.upstreamFailed, {
      upstream: '127.0.0.1:1',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED',
      count: 1,
    });
    await bus.broadcast(Subjects.upstreamFailed, {
      upstream: '127.0.0.1:1',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED again',
      count: 4,
    });
    await bus.broadcast(Subjects.upstreamFailed, { upstream: '127.0.0.1:1', code: 'E', message: 'no count' });
    await bus.broadcast(Subjects.upstreamFailed, { upstream: 'x'.repeat(1000), code: 'E', message: 'too long a label', count: 1 });
    await bus.broadcast(Subjects.upstreamFailed, { upstream: 'u.example', code: 'E', message: 'm'.repeat(201), count: 1 });
    await bus.broadcast(Subjects.upstreamFailed, 'not an object');
    expect(stats.overview('1h').upstreamErrors).toEqual([
      { upstream: '127.0.0.1:1', count: 5, lastMessage: 'connect ECONNREFUSED again', lastAt: expect.any(Date) },
    ]);
    await subscription.stop();
    await bus.broadcast(Subjects.upstreamFailed, { upstream: '127.0.0.1:1', code: 'E', message: 'after stop', count: 1 });
    expect(stats.overview('1h').upstreamErrors[0]!.count).toBe(5);
  });

  it('lets the consumer fail the delivery as before (so the bus retries), counting nothing', async () => {
    const { bus, handler } = capturingBus();
    await recorder.startEntryServed(bus, {
      spec: {},
      handle: async () => {
        throw new Error('store down');
      },
    } as unknown as EntryServedConsumer);
    await expect(handler()(delivery(Subjects.entryServed, served))).rejects.toThrow('store down');
    expect(stats.overview('1h').hits).toBe(0);
  });
});
