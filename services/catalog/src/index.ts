/**
 * @vreg/catalog: the catalog service. Owns the catalog database
 * (registries, upstreams, cache entries), answers the data plane's lookups
 * over the bus, consumes object.stored / entry.served, and serves the admin
 * REST API. Runners call `buildApp(config, deps)` with the adapters of their
 * mode.
 */

export { MemoryCatalogStore } from './adapters/memory/memory-catalog-store.ts';
export { MongoCatalogStore, type MongoCatalogStoreOptions } from './adapters/mongo/mongo-catalog-store.ts';
export { SqliteCatalogStore, type SqliteCatalogStoreOptions } from './adapters/sqlite/sqlite-catalog-store.ts';
export { buildApp, type CatalogApp, type CatalogAppDeps } from './app.ts';
export {
  type CatalogAppConfig,
  CatalogAppEnv,
  type CatalogConfig,
  CatalogEnv,
  CatalogGcEnv,
  CatalogLifecycleEnv,
  CatalogWarmEnv,
  loadCatalogAppConfig,
  loadCatalogConfig,
} from './config.ts';
export type { CacheEntry, CacheEntryStatus, CacheEntryWrite, UpsertOutcome } from './domain/cache-entry.ts';
export { MAX_CACHE_ENTRY_ID_LENGTH } from './domain/cache-entry-id.ts';
export type { Page, PageRequest } from './domain/page.ts';
export type { NewRegistry, Registry, RegistryPatch } from './domain/registry.ts';
export type { NewUpstream, Upstream, UpstreamPatch } from './domain/upstream.ts';
export type { CacheEntryRepository } from './ports/cache-entry-repository.ts';
export type { CatalogStore } from './ports/catalog-store.ts';
export type { RegistryRepository } from './ports/registry-repository.ts';
export type { UpstreamRepository } from './ports/upstream-repository.ts';
