import { MemoryBlobStore } from '@vreg/blob-store';
import type { Delivery } from '@vreg/bus';
import { type ObjectStored, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { MemoryCatalogStore } from '../../adapters/memory/memory-catalog-store.ts';
import { ObjectStoredConsumer } from '../../consumers/object-stored-consumer.ts';
import { RecordingRefills } from './gc-fixtures.ts';

/** An ObjectStoredConsumer over memory stores, with one registry and one upstream to record entries for. */
export interface ObjectStoredRig {
  store: MemoryCatalogStore;
  blobs: MemoryBlobStore;
  refills: RecordingRefills;
  consumer: ObjectStoredConsumer;
  registryId: string;
  upstreamId: string;
}

/** A fresh rig: registry `r` with the upstream `upstream` (cache validity 24 h). */
export async function objectStoredRig(logger: Logger, upstream: { name: string; url: string }): Promise<ObjectStoredRig> {
  const store = new MemoryCatalogStore();
  const blobs = new MemoryBlobStore();
  const refills = new RecordingRefills();
  const consumer = new ObjectStoredConsumer({ store, blobs, refills, logger });
  const registryId = (await store.registries.create({ name: 'r' })).id;
  const upstreamId = (await store.upstreams.create({ registryId, ...upstream, cacheValidityHours: 24 })).id;
  return { store, blobs, refills, consumer, registryId, upstreamId };
}

/** `data` as a first delivery of object.stored. */
export function objectStoredDelivery(data: ObjectStored): Delivery<ObjectStored> {
  return { subject: Subjects.objectStored, data, deliveryCount: 1, headers: {}, working: () => {} };
}
