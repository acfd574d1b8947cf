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
