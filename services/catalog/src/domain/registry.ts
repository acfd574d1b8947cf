import type { RegistryVisibility } from '@vreg/contracts';

/** Visibility of a registry nobody chose one for: pulls need a token. */
export const DEFAULT_REGISTRY_VISIBILITY: RegistryVisibility = 'private';

/** Longest registry name, in characters. */
export const REGISTRY_NAME_MAX = 255;
/** Longest registry description, in characters. */
export const REGISTRY_DESCRIPTION_MAX = 1024;

/**
 * A virtual registry: a name clients never type (they use `id`) and an
 * ordered list of upstreams, kept apart in `Upstream`.
 */
export interface Registry {
  /** Small positive integer as a string ("1", "2"): clients pull `/virtual_registries/containers/<id>/...`. */
  readonly id: string;
  /** Unique among registries, 1–255 characters. */
  readonly name: string;
  readonly description?: string;
  /** `private` (a token that can read it is needed) or `public` (anonymous pulls allowed). */
  readonly visibility: RegistryVisibility;
  /** Quota: bytes of live cache entries the registry may hold; absent = no quota. */
  readonly maxStoredBytes?: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a caller gives to create a registry; the repository assigns id and timestamps. */
export interface NewRegistry {
  name: string;
  description?: string;
  /** Default `private`. */
  visibility?: RegistryVisibility;
  /** Absent = no quota. */
  maxStoredBytes?: number;
}

/**
 * Changes to a registry. An absent field stays as it is; `description: null`
 * removes the description (JSON merge patch semantics, RFC 7396).
 */
export interface RegistryPatch {
  name?: string;
  description?: string | null;
  visibility?: RegistryVisibility;
  /** null removes the quota. */
  maxStoredBytes?: number | null;
}

/** Which registries a list returns. */
export interface RegistryFilter {
  /** Only these ids (a restricted token's reach); absent = every registry. An empty list matches none. */
  ids?: readonly string[];
}
