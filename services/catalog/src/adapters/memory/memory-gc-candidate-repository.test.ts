import type { CacheEntry } from '../../domain/cache-entry.ts';
import { describeGcCandidateRepository } from '../testing/describe-gc-candidate-repository.ts';
import { MemoryCatalogStore } from './memory-catalog-store.ts';
import type { MemoryEntryRows } from './memory-gc-candidate-repository.ts';

describeGcCandidateRepository('MemoryGcCandidateRepository', async () => {
  const store = new MemoryCatalogStore();
  const rows = (store.cacheEntries as unknown as MemoryEntryRows).rows();
  return {
    store,
    async markPending(upstreamId, relativePath) {
      for (const [key, e] of rows) {
        if (e.upstreamId === upstreamId && e.relativePath === relativePath)
          rows.set(key, { ...e, status: 'pending_destruction' } satisfies CacheEntry);
      }
    },
  };
});
