import type { CacheEntryRepository } from '../ports/cache-entry-repository.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';

/**
 * The store, except that each cache-entry upsert that inserts or updates
 * calls `onStored(registryId)`. Handed to the object.stored consumer, it
 * lets the quota enforcer react to stored objects without the consumer
 * knowing about quotas.
 */
export function withStoredHook(store: CatalogStore, onStored: (registryId: string) => void): CatalogStore {
  const entries = store.cacheEntries;
  const hooked: CacheEntryRepository = new Proxy(entries, {
    get(target, prop) {
      if (prop === 'upsert') {
        return async (...args: Parameters<CacheEntryRepository['upsert']>) => {
          const outcome = await target.upsert(...args);
          if (outcome !== 'ignored') onStored(args[0].registryId);
          return outcome;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'cacheEntries') return hooked;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
