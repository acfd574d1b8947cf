/** Hours a tag manifest is served from cache before it is revalidated, unless configured. */
export const DEFAULT_CACHE_VALIDITY_HOURS = 24;
/** Longest allowed cache validity: one year, in hours. */
export const MAX_CACHE_VALIDITY_HOURS = 8760;
/** Longest upstream name, in characters. */
export const UPSTREAM_NAME_MAX = 255;
/** Longest upstream URL, in characters. */
export const UPSTREAM_URL_MAX = 2048;

/** An upstream registry in a virtual registry's ordered list. */
export interface Upstream {
  /** Small positive integer as a string. */
  readonly id: string;
  readonly registryId: string;
  readonly name: string;
  /** Base URL, http or https, without credentials, query or fragment, no trailing slash. */
  readonly url: string;
  readonly username?: string;
  /** The password sealed by `SecretBox`; the plaintext is never stored. */
  readonly passwordSealed?: string;
  /** Hours a tag manifest is served without revalidation; 0 = never revalidate (GitLab's meaning). */
  readonly cacheValidityHours: number;
  /** Docker Hub convention: a one-component name `alpine` is asked for as `library/alpine`. */
  readonly libraryPrefix: boolean;
  /** Largest blob fetched from this upstream, bytes; absent = the services' VREG_UPSTREAM_MAX_BLOB_BYTES. */
  readonly maxBlobSizeBytes?: number;
  /** Place in the registry's list, 0 first; positions of one registry are 0..n-1. */
  readonly position: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a repository needs to create an upstream (password already sealed). */
export interface NewUpstream {
  registryId: string;
  name: string;
  url: string;
  username?: string;
  passwordSealed?: string;
  cacheValidityHours: number;
  /** Default off. */
  libraryPrefix?: boolean;
  /** Absent = no limit of its own. */
  maxBlobSizeBytes?: number;
  /** Where to insert it; absent or past the end = append. Later upstreams move down one place. */
  position?: number;
}

/**
 * Changes to an upstream. Absent fields stay; `null` removes an optional
 * field (RFC 7396). A new `position` moves the upstream and shifts the others.
 */
export interface UpstreamPatch {
  name?: string;
  url?: string;
  username?: string | null;
  passwordSealed?: string | null;
  cacheValidityHours?: number;
  libraryPrefix?: boolean;
  /** `null` removes the upstream's own limit. */
  maxBlobSizeBytes?: number | null;
  position?: number;
}

/** Hosts that serve Docker Hub's registry API, where official images live under `library/`. */
const DOCKER_HUB_HOSTS = new Set(['registry-1.docker.io', 'index.docker.io', 'docker.io', 'registry.hub.docker.com']);

/** The `library/` prefix is on by default for Docker Hub upstreams only. */
export function defaultLibraryPrefix(url: string): boolean {
  try {
    return DOCKER_HUB_HOSTS.has(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}
