import type { CacheEntryRepository } from '../ports/cache-entry-repository.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';

/** Calls made after cache-entry writes that change what is live. */
export interface EntryHooks {
  /** An upsert inserted or updated an entry of this registry. */
  stored?: (registryId: string) => void;
  /** Entries of this upstream left the live set (marked for destruction, or deleted with their upstream). */
  removed?: (upstreamId: string) => void;
}

/**
 * The store, except that cache-entry writes call `hooks`. Handed to the
 * object.stored consumer and the lifecycle jobs, it lets the quota enforcer
 * react to stored objects and the gateways drop removed entries, without
 * the writers knowing about either.
 */
export function withEntryHooks(store: CatalogStore, hooks: EntryHooks): CatalogStore {
  const entries = store.cacheEntries;
  const hooked: CacheEntryRepository = new Proxy(entries, {
    get(target, prop) {
      if (prop === 'upsert') {
        return async (...args: Parameters<CacheEntryRepository['upsert']>) => {
          const outcome = await target.upsert(...args);
          if (outcome !== 'ignored') hooks.stored?.(args[0].registryId);
          return outcome;
        };
      }
      if (prop === 'markPendingDestruction') {
        return async (...args: Parameters<CacheEntryRepository['markPendingDestruction']>) => {
          const marked = await target.markPendingDestruction(...args);
          if (marked) hooks.removed?.(args[0]);
          return marked;
        };
      }
      if (prop === 'deleteByUpstream') {
        return async (...args: Parameters<CacheEntryRepository['deleteByUpstream']>) => {
          const deleted = await target.deleteByUpstream(...args);
          if (deleted > 0) hooks.removed?.(args[0]);
          return deleted;
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
