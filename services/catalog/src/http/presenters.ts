import type { z } from 'zod';
import type { CacheEntry } from '../domain/cache-entry.ts';
import { cacheEntryIdOf } from '../domain/cache-entry-id.ts';
import type { Registry } from '../domain/registry.ts';
import type { Upstream } from '../domain/upstream.ts';
import type { CacheEntryJson, RegistryJson, UpstreamJson } from './api-schemas.ts';

/** The JSON of a registry. */
export function toRegistryJson(registry: Registry): z.input<typeof RegistryJson> {
  return {
    id: registry.id,
    name: registry.name,
    ...(registry.description === undefined ? {} : { description: registry.description }),
    visibility: registry.visibility,
    max_stored_bytes: registry.maxStoredBytes ?? null,
    created_at: registry.createdAt.toISOString(),
    updated_at: registry.updatedAt.toISOString(),
  };
}

/** The JSON of an upstream: whether it has a password, never the password (not even sealed). */
export function toUpstreamJson(upstream: Upstream): z.input<typeof UpstreamJson> {
  return {
    id: upstream.id,
    registry_id: upstream.registryId,
    name: upstream.name,
    url: upstream.url,
    ...(upstream.username === undefined ? {} : { username: upstream.username }),
    has_password: upstream.passwordSealed !== undefined,
    cache_validity_hours: upstream.cacheValidityHours,
    library_prefix: upstream.libraryPrefix,
    ...(upstream.maxBlobSizeBytes === undefined ? {} : { max_blob_size_bytes: upstream.maxBlobSizeBytes }),
    position: upstream.position,
    created_at: upstream.createdAt.toISOString(),
    updated_at: upstream.updatedAt.toISOString(),
  };
}

/** The JSON of a cache entry, with GitLab's field names. */
export function toCacheEntryJson(entry: CacheEntry): z.input<typeof CacheEntryJson> {
  return {
    id: cacheEntryIdOf(entry),
    upstream_id: entry.upstreamId,
    registry_id: entry.registryId,
    relative_path: entry.relativePath,
    digest: entry.digest,
    content_type: entry.contentType,
    size: entry.size,
    ...(entry.upstreamEtag === undefined ? {} : { upstream_etag: entry.upstreamEtag }),
    upstream_checked_at: entry.upstreamCheckedAt.toISOString(),
    downloads_count: entry.downloadsCount,
    ...(entry.downloadedAt === undefined ? {} : { downloaded_at: entry.downloadedAt.toISOString() }),
    status: entry.status,
    created_at: entry.createdAt.toISOString(),
    updated_at: entry.updatedAt.toISOString(),
  };
}
