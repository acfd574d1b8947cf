import type { CacheEntryView, RegistryView } from '@vreg/contracts';

/** The gateway's view of the catalog: registries and cache entries, looked up over the bus. */
export interface CatalogClient {
  /**
   * The registry and its ordered upstreams.
   * @throws NAME_UNKNOWN when the registry does not exist; CATALOG_UNAVAILABLE when the catalog cannot answer and nothing is cached.
   */
  resolveRegistry(registryId: string): Promise<RegistryView>;
  /**
   * The entry for `relativePath` from the first of the registry's upstreams that has one, or undefined.
   * When the catalog cannot answer, a cached answer is used; with none, undefined (a miss: the pull goes upstream).
   */
  lookupEntry(registryId: string, relativePath: string): Promise<CacheEntryView | undefined>;
  /** Records an entry this gateway just stored, so the next lookup hits before the catalog consumed the event. */
  remember(registryId: string, entry: CacheEntryView): void;
}
