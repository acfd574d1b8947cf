import type { CacheEntry, CacheEntryWrite, UpsertOutcome } from '../domain/cache-entry.ts';
import type { Page, PageRequest } from '../domain/page.ts';

/**
 * Stores cache entries, one per (upstreamId, relativePath). Every write is
 * idempotent so that redelivered events never duplicate or corrupt an entry.
 */
export interface CacheEntryRepository {
  /**
   * Inserts the entry, or replaces its facts (digest, type, size, etag,
   * checked-at; status back to `default`) when the stored one has an older
   * `upstreamCheckedAt`. An equal or newer stored entry wins and the write is
   * `ignored`, so replaying an event is a no-op. Never touches
   * `downloadsCount`, `downloadedAt` or `createdAt` of an existing entry.
   */
  upsert(entry: CacheEntryWrite): Promise<UpsertOutcome>;

  /**
   * The entry for `relativePath` of the first upstream in
   * `upstreamIdsInOrder` that has one with status `default`, or undefined.
   */
  findFirst(upstreamIdsInOrder: readonly string[], relativePath: string): Promise<CacheEntry | undefined>;

  /** One page of the upstream's entries (any status) ordered by relativePath, and their total count. */
  listByUpstream(upstreamId: string, page: PageRequest): Promise<Page<CacheEntry>>;

  /**
   * Adds `count` hits to the entry and moves `downloadedAt` to
   * `downloadedAt` if later (never back). False when there is no such entry.
   */
  recordDownloads(upstreamId: string, relativePath: string, count: number, downloadedAt: Date): Promise<boolean>;

  /** Number of entries (any status) of the upstream. */
  countByUpstream(upstreamId: string): Promise<number>;

  /** Deletes every entry of the upstream; resolves to how many were deleted. */
  deleteByUpstream(upstreamId: string): Promise<number>;
}
