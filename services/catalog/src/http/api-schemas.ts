import { RegistryVisibilitySchema } from '@vreg/contracts';
import { z } from 'zod';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../domain/page.ts';
import { REGISTRY_DESCRIPTION_MAX, REGISTRY_NAME_MAX } from '../domain/registry.ts';
import { DEFAULT_CACHE_VALIDITY_HOURS, MAX_CACHE_VALIDITY_HOURS, UPSTREAM_NAME_MAX, UPSTREAM_URL_MAX } from '../domain/upstream.ts';

/** Request and response schemas of the admin API; JSON fields are snake_case (GitLab's names). */

export const IdParams = z.object({ id: z.string().min(1).max(64).meta({ description: 'Numeric id' }) });

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).meta({ description: 'Page number, from 1' }),
  per_page: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PER_PAGE)
    .default(DEFAULT_PER_PAGE)
    .meta({ description: `Items per page, at most ${MAX_PER_PAGE}` }),
});

const registryName = z.string().trim().min(1).max(REGISTRY_NAME_MAX);
const upstreamName = z.string().trim().min(1).max(UPSTREAM_NAME_MAX);
export const upstreamUrl = z
  .string()
  .max(UPSTREAM_URL_MAX)
  .regex(/^https?:\/\//i, 'must be an http or https URL')
  .meta({ description: 'Base URL of the upstream registry, http or https, without credentials, query or fragment' });
export const username = z.string().min(1).max(255);
export const password = z.string().min(1).max(4096).meta({ description: 'Write-only: sealed at rest, never returned', writeOnly: true });
const cacheValidityHours = z
  .int()
  .min(0)
  .max(MAX_CACHE_VALIDITY_HOURS)
  .meta({ description: 'Hours a tag manifest is served without revalidation; 0 = never revalidate' });
const libraryPrefix = z
  .boolean()
  .meta({ description: 'Ask for one-component names as `library/<name>` (Docker Hub); default on for Docker Hub URLs' });
const maxBlobSizeBytes = z.int().min(1).max(Number.MAX_SAFE_INTEGER).meta({
  description:
    'Largest blob fetched from this upstream, bytes: a bigger one is refused (403 DENIED to the client) and nothing is stored; absent = the VREG_UPSTREAM_MAX_BLOB_BYTES of the gateway and fetcher',
});
const position = z.int().min(0).meta({ description: 'Place in the ordered list, 0 first; past the end appends' });

const maxStoredBytes = z.int().min(1).max(Number.MAX_SAFE_INTEGER).meta({
  description:
    'Quota: bytes of live cache entries the registry may hold; above it the least recently downloaded entries are destroyed. null = no quota',
});

const visibility = RegistryVisibilitySchema.meta({
  description: '`private`: pulls need an access token that can read the registry; `public`: anyone may pull, without credentials',
});

export const RegistryCreateBody = z.strictObject({
  name: registryName,
  description: z.string().max(REGISTRY_DESCRIPTION_MAX).optional(),
  visibility: visibility.default('private'),
  max_stored_bytes: maxStoredBytes.nullable().optional(),
});

export const RegistryPatchBody = z.strictObject({
  name: registryName.optional(),
  description: z.string().max(REGISTRY_DESCRIPTION_MAX).nullable().optional().meta({ description: 'null removes it' }),
  visibility: visibility.optional(),
  max_stored_bytes: maxStoredBytes.nullable().optional().meta({ description: 'null removes the quota' }),
});

export const UpstreamCreateBody = z.strictObject({
  name: upstreamName,
  url: upstreamUrl,
  username: username.optional(),
  password: password.optional(),
  cache_validity_hours: cacheValidityHours.default(DEFAULT_CACHE_VALIDITY_HOURS),
  library_prefix: libraryPrefix.optional(),
  max_blob_size_bytes: maxBlobSizeBytes.optional(),
  position: position.optional(),
});

export const UpstreamPatchBody = z.strictObject({
  name: upstreamName.optional(),
  url: upstreamUrl.optional(),
  username: username.nullable().optional().meta({ description: 'null removes it' }),
  password: password.nullable().optional().meta({ description: 'Write-only; null removes it' }),
  cache_validity_hours: cacheValidityHours.optional(),
  library_prefix: libraryPrefix.optional(),
  max_blob_size_bytes: maxBlobSizeBytes.nullable().optional().meta({ description: 'null removes the limit of its own' }),
  position: position.optional(),
});

const timestamp = z.string().meta({ description: 'ISO-8601 UTC' });

export const RegistryJson = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  visibility: RegistryVisibilitySchema,
  max_stored_bytes: z.number().nullable().meta({ description: 'Quota in bytes; null = none' }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const UpstreamJson = z.object({
  id: z.string(),
  registry_id: z.string(),
  name: z.string(),
  url: z.string(),
  username: z.string().optional(),
  has_password: z.boolean().meta({ description: 'Whether a password is set; the password itself is never returned' }),
  cache_validity_hours: z.number(),
  library_prefix: z.boolean(),
  max_blob_size_bytes: z.number().optional(),
  position: z.number(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const CacheEntryJson = z.object({
  id: z.string().meta({ description: 'Stable id of the entry (DELETE /cache_entries/:id)' }),
  upstream_id: z.string(),
  registry_id: z.string(),
  relative_path: z.string(),
  digest: z.string(),
  content_type: z.string(),
  size: z.number().meta({ description: 'Bytes' }),
  upstream_etag: z.string().optional(),
  upstream_checked_at: timestamp,
  downloads_count: z.number(),
  downloaded_at: timestamp.optional(),
  status: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
});

/** A 204: fastify sends no body for `undefined`. */
export const NoContent = z.undefined();

export const ErrorBody = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string(), detail: z.unknown() })),
});

/** Error responses a route declares, so they are documented and serialized alike. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 503>): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}
