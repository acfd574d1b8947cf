/**
 * Life-cycle states of a cache entry (GitLab's names). Only `default`
 * entries are served; cleanup policies mark entries `pending_destruction`
 * before deleting their rows.
 */
export const CacheEntryStatuses = {
  default: 'default',
  pendingDestruction: 'pending_destruction',
} as const;
export type CacheEntryStatus = (typeof CacheEntryStatuses)[keyof typeof CacheEntryStatuses];

/**
 * One object cached through one upstream. The natural key is
 * (`upstreamId`, `relativePath`): the entry is the record that this upstream
 * had these bytes, and so the authorization to serve them to its registry.
 */
export interface CacheEntry {
  readonly upstreamId: string;
  /** The upstream's registry, denormalized for queries by registry. */
  readonly registryId: string;
  /** `<image>/manifests/<tag|digest>` or `<image>/blobs/<digest>`. */
  readonly relativePath: string;
  readonly digest: string;
  /** Content type exactly as the upstream sent it. */
  readonly contentType: string;
  /** Bytes. */
  readonly size: number;
  readonly upstreamEtag?: string;
  /** When the upstream was last asked about this path: decides which write wins. */
  readonly upstreamCheckedAt: Date;
  /** Cache hits recorded so far. */
  readonly downloadsCount: number;
  /** Latest recorded hit; absent until the first one. */
  readonly downloadedAt?: Date;
  readonly status: CacheEntryStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Sort orders of registry-wide entry lists: a field, `-` for descending. Ties go by relative path, then upstream. */
export const CacheEntrySorts = ['relative_path', '-relative_path', 'size', '-size', 'downloaded_at', '-downloaded_at'] as const;
export type CacheEntrySort = (typeof CacheEntrySorts)[number];

/** Which entries of a registry a list shows. */
export interface CacheEntryListQuery {
  /** Substring of the relative path (so of the image name); case-sensitive. */
  search?: string;
  sort: CacheEntrySort;
}

/** Which entries a sweep reads; absent fields match everything. */
export interface CacheEntrySelector {
  registryId?: string;
  upstreamId?: string;
  status?: CacheEntryStatus;
  /** Relative paths starting with this, e.g. `library/alpine/manifests/`. */
  pathPrefix?: string;
  /** Exactly this relative path. */
  relativePath?: string;
}

/** Where a page of a sweep ends: the next page starts after this entry, in (relativePath, upstreamId) order. */
export interface CacheEntryKey {
  upstreamId: string;
  relativePath: string;
}

/** Where a page in least-recent-activity order ends: after this entry, in (lastActivity, relativePath, upstreamId) order. */
export interface ActivityCursor extends CacheEntryKey {
  lastActivityAt: Date;
}

/** Live entries of a registry in least-recent-activity order, a page at a time. */
export interface ActivityPageQuery {
  registryId: string;
  /** Only entries whose last activity is strictly before this (a cleanup cut-off). */
  before?: Date;
  /** The last entry of the previous page; absent for the first page. */
  after?: ActivityCursor;
  limit: number;
}

/** How many entries a sweep will touch and their bytes (a digest counts every time). */
export interface EntryTotals {
  entries: number;
  bytes: number;
}

/** Live bytes (a digest counted once) and live entries of one upstream. */
export interface UpstreamLiveUsage {
  upstreamId: string;
  storedBytes: number;
  entriesCount: number;
}

/** When the entry was last useful: its latest download, else when it was cached. Cleanup and quotas go by it. */
export function lastActivityOf(entry: Pick<CacheEntry, 'downloadedAt' | 'createdAt'>): Date {
  return entry.downloadedAt ?? entry.createdAt;
}

/** The facts an `object.stored` event brings; counters and timestamps are the repository's. */
export interface CacheEntryWrite {
  upstreamId: string;
  registryId: string;
  relativePath: string;
  digest: string;
  contentType: string;
  size: number;
  upstreamEtag?: string;
  upstreamCheckedAt: Date;
}

/**
 * What an upsert did: `inserted` a new entry, `updated` an entry with older
 * `upstreamCheckedAt`, or `ignored` the write because the stored entry is as
 * new or newer (a redelivery, or an event overtaken by a later one).
 */
export type UpsertOutcome = 'inserted' | 'updated' | 'ignored';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of sweep pages: relative path, then upstream (numerically, as the stores sort their integer ids). */
export function compareByKey(a: CacheEntryKey, b: CacheEntryKey): number {
  return compareText(a.relativePath, b.relativePath) || Number(a.upstreamId) - Number(b.upstreamId);
}

/** Least recent activity first, ties by path then upstream, so replicas agree on the order. */
export function compareByActivity(
  a: Pick<CacheEntry, 'downloadedAt' | 'createdAt' | 'relativePath' | 'upstreamId'>,
  b: Pick<CacheEntry, 'downloadedAt' | 'createdAt' | 'relativePath' | 'upstreamId'>,
): number {
  return lastActivityOf(a).getTime() - lastActivityOf(b).getTime() || compareByKey(a, b);
}

/** The cursor that makes the next activity page start after this entry. */
export function activityCursorOf(entry: CacheEntry): ActivityCursor {
  return { upstreamId: entry.upstreamId, relativePath: entry.relativePath, lastActivityAt: lastActivityOf(entry) };
}
