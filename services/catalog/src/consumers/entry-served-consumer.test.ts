import { type Delivery, PermanentFailure } from '@vreg/bus';
import { Consumers, type EntryServed, Streams, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { EntryServedConsumer } from './entry-served-consumer.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const PATH = `library/alpine/blobs/sha256:${'3'.repeat(64)}`;

function delivery(data: EntryServed): Delivery<EntryServed> {
  return { subject: Subjects.entryServed, data, deliveryCount: 1, headers: {}, working: () => {} };
}

let store: MemoryCatalogStore;
let consumer: EntryServedConsumer;

beforeEach(async () => {
  store = new MemoryCatalogStore();
  consumer = new EntryServedConsumer({ store, logger });
  await store.cacheEntries.upsert({
    upstreamId: '1',
    registryId: '1',
    relativePath: PATH,
    digest: `sha256:${'3'.repeat(64)}`,
    contentType: 'application/octet-stream',
    size: 10,
    upstreamCheckedAt: new Date('2025-01-01T00:00:00Z'),
  });
});

const served = (count: number, downloadedAt: string): EntryServed => ({
  eventId: `s-${count}-${downloadedAt}`,
  upstreamId: '1',
  relativePath: PATH,
  count,
  downloadedAt,
});

describe('EntryServedConsumer', () => {
  it('consumes entry.served from VREG_SERVED on the catalog-served durable, one message at a time', () => {
    expect(consumer.spec).toMatchObject({
      stream: Streams.served.name,
      consumer: Consumers.catalogServed,
      subject: Subjects.entryServed,
      concurrency: 1,
    });
  });

  it('adds each batch to the download count and moves downloadedAt forward only', async () => {
    expect(await consumer.handle(delivery(served(3, '2025-02-01T12:00:00Z')))).toBe(true);
    await consumer.handle(delivery(served(2, '2025-02-01T11:00:00Z')));
    expect(await store.cacheEntries.findFirst(['1'], PATH)).toMatchObject({
      downloadsCount: 5,
      downloadedAt: new Date('2025-02-01T12:00:00Z'),
    });
  });

  it('acks hits of an entry that no longer exists without failing', async () => {
    await store.cacheEntries.deleteByUpstream('1');
    expect(await consumer.handle(delivery(served(1, '2025-02-01T12:00:00Z')))).toBe(false);
  });

  it('treats an unreadable downloadedAt as a permanent failure', async () => {
    await expect(consumer.handle(delivery(served(1, 'not a time')))).rejects.toBeInstanceOf(PermanentFailure);
  });
});
