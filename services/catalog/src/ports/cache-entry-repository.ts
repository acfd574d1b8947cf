import type {
  ActivityPageQuery,
  CacheEntry,
  CacheEntryKey,
  CacheEntryListQuery,
  CacheEntrySelector,
  CacheEntryWrite,
  EntryTotals,
  UpsertOutcome,
  UpstreamLiveUsage,
} from '../domain/cache-entry.ts';
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

  /** The entry of the upstream at this path (any status), or undefined. */
  get(upstreamId: string, relativePath: string): Promise<CacheEntry | undefined>;

  /** One page of the registry's entries (any status) matching the query, and their total count. */
  listByRegistry(registryId: string, query: CacheEntryListQuery, page: PageRequest): Promise<Page<CacheEntry>>;

  /**
   * Every entry matching the selector, unordered and unbounded: for tests
   * only. Sweeps page with `findPage` / `findByLeastRecentActivity`, so the
   * catalog's memory does not grow with a registry's size.
   */
  findAll(selector: CacheEntrySelector): Promise<CacheEntry[]>;

  /** Up to `limit` entries matching the selector, ordered by (relativePath, upstreamId), strictly after `after`. */
  findPage(selector: CacheEntrySelector, after: CacheEntryKey | undefined, limit: number): Promise<CacheEntry[]>;

  /** Number and total size of the entries matching the selector (and, with `lastActivityBefore`, inactive since before then). */
  measure(selector: CacheEntrySelector & { lastActivityBefore?: Date }): Promise<EntryTotals>;

  /**
   * Up to `limit` live (`default`) entries of the registry, least recent
   * activity first (`lastActivityOf`, ties by relativePath then upstreamId),
   * strictly after `query.after`, and before `query.before` when given.
   */
  findByLeastRecentActivity(query: ActivityPageQuery): Promise<CacheEntry[]>;

  /** Per upstream of the registry with live entries: their count, and their bytes counting a digest once per upstream. Computed by the store. */
  liveUsageByUpstream(registryId: string): Promise<UpstreamLiveUsage[]>;

  /** True when the upstream still has a live entry of this digest (so its bytes are still used). */
  hasLiveDigest(upstreamId: string, digest: string): Promise<boolean>;

  /**
   * Marks the entry `pending_destruction` (no longer served) if it is
   * `default`; true when this call changed it. Rows are deleted by the
   * destruction worker, not here.
   */
  markPendingDestruction(upstreamId: string, relativePath: string): Promise<boolean>;

  /** Number of entries (any status) of the upstream. */
  countByUpstream(upstreamId: string): Promise<number>;

  /** Deletes every entry of the upstream; resolves to how many were deleted. */
  deleteByUpstream(upstreamId: string): Promise<number>;
}
