import type { MemoryBlobStore } from '@vreg/blob-store';
import { PermanentFailure, RetryLater } from '@vreg/bus';
import { Consumers, type ObjectStored, Streams, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { putBlob, type RecordingRefills } from '../gc/testing/gc-fixtures.ts';
import { objectStoredDelivery, objectStoredRig } from '../gc/testing/object-stored-rig.ts';
import { GcInProgressError, ObjectStoredConsumer } from './object-stored-consumer.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const DIGEST_1 = `sha256:${'1'.repeat(64)}`;
const DIGEST_2 = `sha256:${'2'.repeat(64)}`;

let store: MemoryCatalogStore;
let blobs: MemoryBlobStore;
let refills: RecordingRefills;
let consumer: ObjectStoredConsumer;
let registryId: string;
let upstreamId: string;

function event(extra: Partial<ObjectStored> = {}): ObjectStored {
  return {
    eventId: 'e1',
    registryId,
    upstreamId,
    relativePath: 'library/alpine/manifests/latest',
    digest: DIGEST_1,
    contentType: 'application/vnd.oci.image.index.v1+json',
    size: 1500,
    upstreamEtag: '"abc"',
    upstreamCheckedAt: '2025-05-01T10:00:00.000Z',
    storedAt: '2025-05-01T10:00:01.000Z',
    ...extra,
  };
}

beforeEach(async () => {
  ({ store, blobs, refills, consumer, registryId, upstreamId } = await objectStoredRig(logger, {
    name: 'hub',
    url: 'https://hub.example',
  }));
});

describe('ObjectStoredConsumer', () => {
  it('consumes object.stored from VREG_OBJECTS on the catalog-objects durable', () => {
    expect(consumer.spec).toMatchObject({
      stream: Streams.objects.name,
      consumer: Consumers.catalogObjects,
      subject: Subjects.objectStored,
    });
  });

  it('records a stored object as a cache entry of its upstream', async () => {
    expect(await consumer.handle(objectStoredDelivery(event()))).toBe('inserted');
    expect(await store.cacheEntries.findFirst([upstreamId], 'library/alpine/manifests/latest')).toMatchObject({
      registryId,
      digest: DIGEST_1,
      size: 1500,
      upstreamEtag: '"abc"',
      upstreamCheckedAt: new Date('2025-05-01T10:00:00.000Z'),
      downloadsCount: 0,
    });
  });

  it('keeps one entry and its download count when the same event is delivered twice', async () => {
    await consumer.handle(objectStoredDelivery(event()));
    await store.cacheEntries.recordDownloads(upstreamId, 'library/alpine/manifests/latest', 4, new Date());
    expect(await consumer.handle({ ...objectStoredDelivery(event()), deliveryCount: 2 })).toBe('ignored');
    expect(await store.cacheEntries.countByUpstream(upstreamId)).toBe(1);
    expect(await store.cacheEntries.findFirst([upstreamId], 'library/alpine/manifests/latest')).toMatchObject({ downloadsCount: 4 });
  });

  it('does not let an older event overwrite a newer one that arrived first', async () => {
    await consumer.handle(objectStoredDelivery(event({ eventId: 'new', digest: DIGEST_2, upstreamCheckedAt: '2025-05-02T00:00:00Z' })));
    expect(await consumer.handle(objectStoredDelivery(event({ eventId: 'old', digest: DIGEST_1 })))).toBe('ignored');
    expect(await store.cacheEntries.findFirst([upstreamId], 'library/alpine/manifests/latest')).toMatchObject({ digest: DIGEST_2 });
  });

  it('acks and drops an event for an upstream deleted meanwhile', async () => {
    await store.upstreams.delete(upstreamId);
    expect(await consumer.handle(objectStoredDelivery(event()))).toBe('dropped');
    expect(await store.cacheEntries.countByUpstream(upstreamId)).toBe(0);
  });

  it('files the entry under the upstream registry even when the event names another', async () => {
    await consumer.handle(objectStoredDelivery(event({ registryId: '999' })));
    expect(await store.cacheEntries.findFirst([upstreamId], 'library/alpine/manifests/latest')).toMatchObject({ registryId });
  });

  it('treats an unreadable upstreamCheckedAt as a permanent failure', async () => {
    await expect(consumer.handle(objectStoredDelivery(event({ upstreamCheckedAt: 'yesterday' })))).rejects.toBeInstanceOf(PermanentFailure);
  });

  it('lets a store failure through so the bus retries with backoff', async () => {
    const failing = new MemoryCatalogStore();
    const upstream = await failing.upstreams.create({ registryId, name: 'u', url: 'https://u.example', cacheValidityHours: 1 });
    failing.cacheEntries.upsert = async () => {
      throw new Error('database down');
    };
    const flaky = new ObjectStoredConsumer({ store: failing, blobs, refills, logger });
    const error = await flaky.handle(objectStoredDelivery(event({ upstreamId: upstream.id }))).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentFailure);
  });
  describe('against GC (protocol step 3, see gc/gc-sweep.ts)', () => {
    const at = new Date('2025-05-01T09:00:00.000Z');
    const due = { markedBefore: new Date('2030-01-01T00:00:00Z'), staleClaimBefore: new Date(0) };

    it('records a fill of a pending candidate and drops the candidate: the digest is referenced again', async () => {
      const digest = await putBlob(blobs, 'pending');
      await store.gcCandidates.mark(digest, 7, at);
      expect(await consumer.handle(objectStoredDelivery(event({ digest, relativePath: `library/alpine/blobs/${digest}` })))).toBe(
        'inserted',
      );
      expect(await store.gcCandidates.get(digest)).toBeUndefined();
    });

    it('retries later, recording nothing, while a sweep is deleting the digest', async () => {
      const digest = await putBlob(blobs, 'deleting');
      await store.gcCandidates.mark(digest, 8, at);
      await store.gcCandidates.claim(digest, 'sweep', at, due);
      const error = await consumer
        .handle(objectStoredDelivery(event({ digest, relativePath: `library/alpine/blobs/${digest}` })))
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(GcInProgressError);
      expect(error).toBeInstanceOf(RetryLater);
      expect(await store.cacheEntries.countByUpstream(upstreamId)).toBe(0);
    });

    it('does not record a fill whose object GC deleted, and asks for the object again', async () => {
      const digest = `sha256:${'9'.repeat(64)}`;
      await store.gcCandidates.mark(digest, 9, at);
      await store.gcCandidates.claim(digest, 'sweep', at, due);
      await store.gcCandidates.markDeleted(digest, 'sweep', at);
      const path = `team/app/api/manifests/${digest}`;
      expect(await consumer.handle(objectStoredDelivery(event({ eventId: 'ev-9', digest, relativePath: path })))).toBe('refill_requested');
      expect(await store.cacheEntries.countByUpstream(upstreamId)).toBe(0);
      expect(refills.requests).toEqual([
        { registryId, object: { kind: 'manifest', image: 'team/app/api', reference: digest }, dedupKey: 'ev-9' },
      ]);
    });

    it('records a fill after a deletion when the object was stored again since', async () => {
      const digest = await putBlob(blobs, 'stored again');
      await store.gcCandidates.mark(digest, 12, at);
      await store.gcCandidates.claim(digest, 'sweep', at, due);
      await store.gcCandidates.markDeleted(digest, 'sweep', at);
      expect(await consumer.handle(objectStoredDelivery(event({ digest, relativePath: `library/alpine/blobs/${digest}` })))).toBe(
        'inserted',
      );
      expect(refills.requests).toEqual([]);
    });
  });
});
