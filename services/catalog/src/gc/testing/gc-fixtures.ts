import { createHash } from 'node:crypto';
import type { MemoryBlobStore } from '@vreg/blob-store';
import type { ObjectRef } from '@vreg/contracts';
import type { MemoryCatalogStore } from '../../adapters/memory/memory-catalog-store.ts';
import type { MemoryEntryRows } from '../../adapters/memory/memory-gc-candidate-repository.ts';
import type { CacheEntry } from '../../domain/cache-entry.ts';
import type { RefillRequester } from '../../ports/refill-requester.ts';

/** Stores `bytes` and resolves to their digest. */
export async function putBlob(store: MemoryBlobStore, bytes: string): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const writer = await store.beginWrite(digest);
  writer.stream.end(Buffer.from(bytes));
  await writer.commit();
  return digest;
}

/** Marks entries of the memory store `pending_destruction`, as purge and cleanup do. */
export function markPending(store: MemoryCatalogStore, match: (e: CacheEntry) => boolean): number {
  const rows = (store.cacheEntries as unknown as MemoryEntryRows).rows();
  let n = 0;
  for (const [key, e] of rows) {
    if (e.status === 'default' && match(e)) {
      rows.set(key, { ...e, status: 'pending_destruction' });
      n += 1;
    }
  }
  return n;
}

/** Every row of the memory store. */
export function allEntries(store: MemoryCatalogStore): CacheEntry[] {
  return [...(store.cacheEntries as unknown as MemoryEntryRows).rows().values()];
}

/** The invariant GC must keep: live entries whose object is gone (should be none). */
export async function liveEntriesWithoutObject(store: MemoryCatalogStore, blobs: MemoryBlobStore): Promise<CacheEntry[]> {
  const broken: CacheEntry[] = [];
  for (const e of allEntries(store)) if (e.status === 'default' && (await blobs.stat(e.digest)) === undefined) broken.push(e);
  return broken;
}

/** Records refill requests instead of publishing them. */
export class RecordingRefills implements RefillRequester {
  readonly requests: Array<{ registryId: string; object: ObjectRef; dedupKey: string }> = [];
  async request(registryId: string, object: ObjectRef, dedupKey: string): Promise<void> {
    this.requests.push({ registryId, object, dedupKey });
  }
}
