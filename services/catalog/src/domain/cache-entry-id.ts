import { parseNumericId } from './numeric-id.ts';

/**
 * Longest cache entry id the admin API takes (`DELETE /cache_entries/:id`):
 * the base64url of a path of a 255-character image name and a tag fits. A
 * server carrying the admin API sets its router's `maxParamLength` to it
 * (fastify's default of 100 refuses a blob entry's id with 414).
 */
export const MAX_CACHE_ENTRY_ID_LENGTH = 2048;

/** The natural key of a cache entry. */
export interface CacheEntryKey {
  readonly upstreamId: string;
  readonly relativePath: string;
}

/**
 * The stable string id of a cache entry in the API: `<upstream id>-<relative
 * path in base64url>`. Derived from the natural key, so every store has it
 * without a column, it survives re-caching, and it is safe in a URL segment.
 */
export function cacheEntryIdOf(key: CacheEntryKey): string {
  return `${key.upstreamId}-${Buffer.from(key.relativePath, 'utf8').toString('base64url')}`;
}

/** The key behind an id from `cacheEntryIdOf`, or undefined when `id` is not one. */
export function parseCacheEntryId(id: string): CacheEntryKey | undefined {
  const dash = id.indexOf('-');
  if (dash <= 0) return undefined;
  const upstreamId = id.slice(0, dash);
  const encoded = id.slice(dash + 1);
  if (parseNumericId(upstreamId) === undefined || !/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const relativePath = Buffer.from(encoded, 'base64url').toString('utf8');
  // Reject ids that do not round-trip (padding tricks, invalid UTF-8).
  if (relativePath === '' || cacheEntryIdOf({ upstreamId, relativePath }) !== id) return undefined;
  return { upstreamId, relativePath };
}
