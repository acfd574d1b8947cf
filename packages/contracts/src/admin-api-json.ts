/**
 * Admin API answers (`/api/v1`) as its clients read them: the console, the
 * `vreg` CLI and the tests. Types only and no imports, so the browser bundle
 * can `import type` them without pulling in zod. The catalog's zod schemas
 * (services/catalog/src/http/api-schemas.ts) are what the server sends.
 */

/** An upstream of a registry (`GET /registries/:id/upstreams`); the password never leaves, only whether one is set. */
export interface UpstreamJson {
  id: string;
  registry_id: string;
  name: string;
  url: string;
  username?: string;
  has_password: boolean;
  cache_validity_hours: number;
  library_prefix: boolean;
  position: number;
}

/** The answer to a test connection (`POST /upstreams/test`, `/upstreams/:id/test`). */
export interface UpstreamTestJson {
  success: boolean;
  result: string;
  http_status?: number;
  latency_ms: number;
  message: string;
}

/** An access token as the API lists it; the token itself is shown only once, on create. */
export interface AccessTokenJson {
  id: string;
  name: string;
  token_prefix: string;
  scopes: string[];
  registry_ids?: string[];
  expires_at?: string;
  last_used_at?: string;
  revoked: boolean;
  active: boolean;
  created_at: string;
}

/** The upstream hosts one registry mirrors (`GET|PUT /registries/:id/mirror_hosts`). */
export interface RegistryMirrorHostsJson {
  registry_id: string;
  /** Normalised host names (`docker.io`, `ghcr.io`), sorted. */
  hosts: string[];
}

/** One mirrored host and its registry (`GET /mirror_hosts`). */
export interface MirrorHostJson {
  host: string;
  registry_id: string;
}
