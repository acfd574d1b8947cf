import { NotFoundError, ValidationError } from '@vreg/contracts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { CacheEntry, CacheEntryListQuery } from './cache-entry.ts';
import type { Page, PageRequest } from './page.ts';
import type { NewRegistry, Registry, RegistryFilter, RegistryPatch } from './registry.ts';
import {
  DEFAULT_CACHE_VALIDITY_HOURS,
  defaultLibraryPrefix,
  MAX_CACHE_VALIDITY_HOURS,
  type Upstream,
  type UpstreamPatch,
} from './upstream.ts';
import { normalizeUpstreamUrl } from './upstream-url.ts';

/** Seals upstream passwords (`SecretBox` from @vreg/secrets). */
export interface PasswordSealer {
  seal(plaintext: string): string;
}

/** An upstream as an administrator describes it: the password in clear, once. */
export interface UpstreamInput {
  name: string;
  url: string;
  username?: string;
  /** Sealed before it is stored; never returned. */
  password?: string;
  /** Default 24. */
  cacheValidityHours?: number;
  /** Default: on for Docker Hub URLs. */
  libraryPrefix?: boolean;
  /** Largest blob fetched from it, bytes; default: the services' VREG_UPSTREAM_MAX_BLOB_BYTES. */
  maxBlobSizeBytes?: number;
  /** Default: append. */
  position?: number;
}

/** Changes to an upstream; `null` removes username or password (RFC 7396). */
export interface UpstreamInputPatch {
  name?: string;
  url?: string;
  username?: string | null;
  password?: string | null;
  cacheValidityHours?: number;
  libraryPrefix?: boolean;
  /** `null` removes the upstream's own limit. */
  maxBlobSizeBytes?: number | null;
  position?: number;
}

/** The value, or the error when the store had nothing. */
function found<T>(value: T | undefined, notFound: () => Error): T {
  if (value === undefined) throw notFound();
  return value;
}

function registryNotFound(id: string): NotFoundError {
  return new NotFoundError('registry not found', { registryId: id });
}

function upstreamNotFound(id: string): NotFoundError {
  return new NotFoundError('upstream not found', { upstreamId: id });
}

function assertCacheValidity(hours: number | undefined): void {
  if (hours === undefined) return;
  if (!Number.isInteger(hours) || hours < 0 || hours > MAX_CACHE_VALIDITY_HOURS) {
    throw new ValidationError(`cache_validity_hours must be an integer from 0 to ${MAX_CACHE_VALIDITY_HOURS}`, {
      field: 'cache_validity_hours',
    });
  }
}

function assertPasswordHasUsername(username: string | undefined, hasPassword: boolean): void {
  if (hasPassword && username === undefined) {
    throw new ValidationError('a password needs a username', { field: 'username' });
  }
}

/**
 * The administrator's use cases over the catalog: what the admin REST API
 * calls. Turns "no such thing" into `NotFoundError`, seals passwords, checks
 * the rules a schema cannot express, and cascades deletes.
 *
 * Deletes go children first (upstream, then its entries, then the registry):
 * without transactions, a crash part-way leaves the registry in place, so
 * repeating the DELETE finishes the job, and the catalog never serves an
 * entry whose upstream is gone (lookups go through upstreams).
 */
export class CatalogAdmin {
  readonly #store: CatalogStore;
  readonly #sealer: PasswordSealer;

  constructor(store: CatalogStore, sealer: PasswordSealer) {
    this.#store = store;
    this.#sealer = sealer;
  }

  /** @throws ConflictError when the name is taken. */
  createRegistry(input: NewRegistry): Promise<Registry> {
    return this.#store.registries.create(input);
  }

  /** @throws NotFoundError */
  async getRegistry(id: string): Promise<Registry> {
    return found(await this.#store.registries.get(id), () => registryNotFound(id));
  }

  /** One page of the registries `filter` matches (filtered in the query, so the total counts only those). */
  listRegistries(page: PageRequest, filter: RegistryFilter = {}): Promise<Page<Registry>> {
    return this.#store.registries.list(page, filter);
  }

  /** @throws NotFoundError, ConflictError */
  async updateRegistry(id: string, patch: RegistryPatch): Promise<Registry> {
    return found(await this.#store.registries.update(id, patch), () => registryNotFound(id));
  }

  /** Deletes the registry, its upstreams and their cache entries, and stops it mirroring any host. @throws NotFoundError */
  async deleteRegistry(id: string): Promise<void> {
    await this.getRegistry(id);
    for (const upstream of await this.#store.upstreams.listByRegistry(id)) {
      await this.#removeUpstream(upstream.id);
    }
    await this.#store.cleanupPolicies.delete(id);
    await this.#store.mirrorHosts.deleteByRegistry(id);
    await this.#store.pullPolicies.delete(id);
    await this.#store.policyDenials.deleteByRegistry(id);
    await this.#store.registries.delete(id);
  }

  /** @throws NotFoundError (registry), ValidationError */
  async addUpstream(registryId: string, input: UpstreamInput): Promise<Upstream> {
    await this.getRegistry(registryId);
    assertCacheValidity(input.cacheValidityHours);
    assertPasswordHasUsername(input.username, input.password !== undefined);
    return this.#store.upstreams.create({
      registryId,
      name: input.name,
      url: normalizeUpstreamUrl(input.url),
      ...(input.username === undefined ? {} : { username: input.username }),
      ...(input.password === undefined ? {} : { passwordSealed: this.#sealer.seal(input.password) }),
      cacheValidityHours: input.cacheValidityHours ?? DEFAULT_CACHE_VALIDITY_HOURS,
      libraryPrefix: input.libraryPrefix ?? defaultLibraryPrefix(input.url),
      ...(input.maxBlobSizeBytes === undefined ? {} : { maxBlobSizeBytes: input.maxBlobSizeBytes }),
      ...(input.position === undefined ? {} : { position: input.position }),
    });
  }

  /** The registry's upstreams in order. @throws NotFoundError */
  async listUpstreams(registryId: string): Promise<Upstream[]> {
    await this.getRegistry(registryId);
    return this.#store.upstreams.listByRegistry(registryId);
  }

  /** @throws NotFoundError */
  async getUpstream(id: string): Promise<Upstream> {
    return found(await this.#store.upstreams.get(id), () => upstreamNotFound(id));
  }

  /** @throws NotFoundError, ValidationError */
  async updateUpstream(id: string, patch: UpstreamInputPatch): Promise<Upstream> {
    const current = await this.getUpstream(id);
    assertCacheValidity(patch.cacheValidityHours);
    const username = patch.username === null ? undefined : (patch.username ?? current.username);
    const hasPassword = patch.password === null ? false : patch.password !== undefined || current.passwordSealed !== undefined;
    assertPasswordHasUsername(username, hasPassword);
    const changes: UpstreamPatch = {
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.url === undefined ? {} : { url: normalizeUpstreamUrl(patch.url) }),
      ...(patch.username === undefined ? {} : { username: patch.username }),
      ...(patch.password === undefined ? {} : { passwordSealed: patch.password === null ? null : this.#sealer.seal(patch.password) }),
      ...(patch.cacheValidityHours === undefined ? {} : { cacheValidityHours: patch.cacheValidityHours }),
      ...(patch.libraryPrefix === undefined ? {} : { libraryPrefix: patch.libraryPrefix }),
      ...(patch.maxBlobSizeBytes === undefined ? {} : { maxBlobSizeBytes: patch.maxBlobSizeBytes }),
      ...(patch.position === undefined ? {} : { position: patch.position }),
    };
    return found(await this.#store.upstreams.update(id, changes), () => upstreamNotFound(id));
  }

  /** Deletes the upstream and its cache entries. @throws NotFoundError */
  async deleteUpstream(id: string): Promise<void> {
    await this.getUpstream(id);
    await this.#removeUpstream(id);
  }

  /** One page of the upstream's cache entries by relative path. @throws NotFoundError */
  async listCacheEntries(upstreamId: string, page: PageRequest): Promise<Page<CacheEntry>> {
    await this.getUpstream(upstreamId);
    return this.#store.cacheEntries.listByUpstream(upstreamId, page);
  }

  /** One page of the registry's cache entries (any status), searched and sorted. @throws NotFoundError */
  async listRegistryCacheEntries(registryId: string, query: CacheEntryListQuery, page: PageRequest): Promise<Page<CacheEntry>> {
    await this.getRegistry(registryId);
    return this.#store.cacheEntries.listByRegistry(registryId, query, page);
  }

  async #removeUpstream(id: string): Promise<void> {
    // The upstream first: from then on the object.stored consumer drops
    // events for it, and lookups stop reaching its entries.
    await this.#store.upstreams.delete(id);
    await this.#store.cacheEntries.deleteByUpstream(id);
  }
}
