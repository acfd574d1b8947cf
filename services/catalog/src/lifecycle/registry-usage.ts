import { NotFoundError } from '@vreg/contracts';
import type { CacheEntry } from '../domain/cache-entry.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';

export interface UpstreamUsage {
  upstreamId: string;
  name: string;
  storedBytes: number;
  entriesCount: number;
}

export interface RegistryUsage {
  registryId: string;
  /** Bytes of live entries; a digest cached under several paths of one upstream counts once. */
  storedBytes: number;
  entriesCount: number;
  /** `max_stored_bytes`, or null without a quota. */
  quotaBytes: number | null;
  upstreams: UpstreamUsage[];
}

/** Bytes and entries of live entries, per upstream; a digest counts once per upstream. */
export function usageByUpstream(live: readonly CacheEntry[]): Map<string, { storedBytes: number; entriesCount: number }> {
  const seen = new Map<string, Set<string>>();
  const totals = new Map<string, { storedBytes: number; entriesCount: number }>();
  for (const entry of live) {
    const digests = seen.get(entry.upstreamId) ?? new Set<string>();
    seen.set(entry.upstreamId, digests);
    const total = totals.get(entry.upstreamId) ?? { storedBytes: 0, entriesCount: 0 };
    totals.set(entry.upstreamId, total);
    total.entriesCount += 1;
    if (!digests.has(entry.digest)) {
      digests.add(entry.digest);
      total.storedBytes += entry.size;
    }
  }
  return totals;
}

/** `GET /registries/:id/usage`: what the registry stores, in total and per upstream. */
export class RegistryUsageReader {
  readonly #store: Pick<CatalogStore, 'registries' | 'upstreams' | 'cacheEntries'>;

  constructor(store: Pick<CatalogStore, 'registries' | 'upstreams' | 'cacheEntries'>) {
    this.#store = store;
  }

  /** @throws NotFoundError */
  async read(registryId: string): Promise<RegistryUsage> {
    const registry = await this.#store.registries.get(registryId);
    if (registry === undefined) throw new NotFoundError('registry not found', { registryId });
    const [upstreams, live] = await Promise.all([this.#store.upstreams.listByRegistry(registryId), this.#store.cacheEntries.findAll({ registryId, status: 'default' })]);
    const totals = usageByUpstream(live);
    let storedBytes = 0;
    for (const t of totals.values()) storedBytes += t.storedBytes;
    return {
      registryId,
      storedBytes,
      entriesCount: live.length,
      quotaBytes: registry.maxStoredBytes ?? null,
      upstreams: upstreams.map((u) => ({ upstreamId: u.id, name: u.name, storedBytes: totals.get(u.id)?.storedBytes ?? 0, entriesCount: totals.get(u.id)?.entriesCount ?? 0 })),
    };
  }
}
