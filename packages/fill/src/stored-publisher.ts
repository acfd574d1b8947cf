import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type CacheEntryView, type ObjectStored, objectStoredMsgId, Subjects } from '@vreg/contracts';

/**
 * Publishes `object.stored` for each cache entry a fill produced. Called only
 * after the blob store committed the verified bytes: the catalog never records
 * an object before it is durable.
 */
export async function publishStored(
  bus: EventBus,
  registryId: string,
  entries: readonly CacheEntryView[],
  storedAt: Date,
  headers?: Record<string, string>,
): Promise<void> {
  for (const entry of entries) {
    const event: ObjectStored = {
      eventId: randomUUID(),
      registryId,
      upstreamId: entry.upstreamId,
      relativePath: entry.relativePath,
      digest: entry.digest,
      contentType: entry.contentType,
      size: entry.size,
      upstreamCheckedAt: entry.upstreamCheckedAt,
      storedAt: storedAt.toISOString(),
      ...(entry.upstreamEtag === undefined ? {} : { upstreamEtag: entry.upstreamEtag }),
    };
    await bus.publish(Subjects.objectStored, event, { msgId: objectStoredMsgId(event), ...(headers ? { headers } : {}) });
  }
}
