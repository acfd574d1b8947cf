import type { CacheEntryView, RegistryView } from '@vreg/contracts';

/** What the fetcher asks the catalog: no caching, the fetcher wants the truth. */
export interface CatalogLookup {
  /** @throws NAME_UNKNOWN when the registry no longer exists; CATALOG_UNAVAILABLE when the catalog cannot answer. */
  resolveRegistry(registryId: string): Promise<RegistryView>;
  /** The first entry among the registry's upstreams for the path, or undefined. */
  lookupEntry(registryId: string, relativePath: string): Promise<CacheEntryView | undefined>;
}
