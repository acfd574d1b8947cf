import type { RegistryVisibility } from '@vreg/contracts';
import type { CacheEntry, CacheEntryStatus } from '../../domain/cache-entry.ts';
import { DEFAULT_REGISTRY_VISIBILITY, type Registry } from '../../domain/registry.ts';
import type { Upstream } from '../../domain/upstream.ts';

/**
 * Documents as stored, with GitLab's snake_case field names. Ids are
 * numbers (so they sort 1, 2, 10) in an `id` field with a unique index; the
 * domain sees them as strings. `_id` is the server's and never leaves here.
 */
export interface RegistryDocument {
  id: number;
  name: string;
  description?: string;
  /** Absent on documents written before access control: read as `private`. */
  visibility?: RegistryVisibility;
  /** Absent = no quota. */
  max_stored_bytes?: number;
  created_at: Date;
  updated_at: Date;
}

export interface UpstreamDocument {
  id: number;
  registry_id: number;
  name: string;
  url: string;
  username?: string;
  password_sealed?: string;
  cache_validity_hours: number;
  /** Absent in documents written before the field existed: off. */
  library_prefix?: boolean;
  max_blob_size_bytes?: number;
  position: number;
  created_at: Date;
  updated_at: Date;
}

export interface CacheEntryDocument {
  upstream_id: number;
  registry_id: number;
  relative_path: string;
  digest: string;
  content_type: string;
  size: number;
  upstream_etag?: string;
  upstream_checked_at: Date;
  downloads_count: number;
  downloaded_at?: Date;
  status: CacheEntryStatus;
  created_at: Date;
  updated_at: Date;
}

/** One id sequence per collection: `{ _id: 'registries', seq: 7 }`. */
export interface CounterDocument {
  _id: string;
  seq: number;
}

export const Collections = {
  registries: 'registries',
  upstreams: 'upstreams',
  cacheEntries: 'cache_entries',
  accessTokens: 'access_tokens',
  jobs: 'jobs',
  jobClaims: 'job_claims',
  cleanupPolicies: 'cleanup_policies',
  cleanupPolicyClaims: 'cleanup_policy_claims',
  cleanupRuns: 'cleanup_runs',
  gcCandidates: 'gc_candidates',
  gcClaims: 'gc_claims',
  counters: 'counters',
  pullPolicies: 'pull_policies',
  policyDenials: 'policy_denials',
} as const;

export function toRegistry(doc: RegistryDocument): Registry {
  return {
    id: String(doc.id),
    name: doc.name,
    ...(doc.description === undefined || doc.description === null ? {} : { description: doc.description }),
    visibility: doc.visibility === 'public' ? 'public' : DEFAULT_REGISTRY_VISIBILITY,
    ...(doc.max_stored_bytes == null ? {} : { maxStoredBytes: doc.max_stored_bytes }),
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
  };
}

export function toUpstream(doc: UpstreamDocument): Upstream {
  return {
    id: String(doc.id),
    registryId: String(doc.registry_id),
    name: doc.name,
    url: doc.url,
    ...(doc.username == null ? {} : { username: doc.username }),
    ...(doc.password_sealed == null ? {} : { passwordSealed: doc.password_sealed }),
    cacheValidityHours: doc.cache_validity_hours,
    libraryPrefix: doc.library_prefix === true,
    ...(doc.max_blob_size_bytes == null ? {} : { maxBlobSizeBytes: doc.max_blob_size_bytes }),
    position: doc.position,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
  };
}

export function toCacheEntry(doc: CacheEntryDocument): CacheEntry {
  return {
    upstreamId: String(doc.upstream_id),
    registryId: String(doc.registry_id),
    relativePath: doc.relative_path,
    digest: doc.digest,
    contentType: doc.content_type,
    size: doc.size,
    ...(doc.upstream_etag == null ? {} : { upstreamEtag: doc.upstream_etag }),
    upstreamCheckedAt: doc.upstream_checked_at,
    downloadsCount: doc.downloads_count,
    ...(doc.downloaded_at == null ? {} : { downloadedAt: doc.downloaded_at }),
    status: doc.status,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
  };
}

/**
 * True for a unique-index violation. MongoDB, and FerretDB on inserts, say
 * E11000; FerretDB 1.24 (SQLite backend) answers an update or findAndModify
 * that breaks a unique index with InternalError (code 1) carrying SQLite's
 * "UNIQUE constraint failed".
 */
export function isDuplicateKey(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return code === 11000 || (code === 1 && typeof message === 'string' && message.includes('UNIQUE constraint failed'));
}
