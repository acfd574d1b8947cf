import { NotFoundError } from '@vreg/contracts';
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
    // Summed by the store (a digest once per upstream): no entry is read into memory.
    const [upstreams, usage] = await Promise.all([
      this.#store.upstreams.listByRegistry(registryId),
      this.#store.cacheEntries.liveUsageByUpstream(registryId),
    ]);
    const totals = new Map(usage.map((u) => [u.upstreamId, u]));
    return {
      registryId,
      storedBytes: usage.reduce((sum, u) => sum + u.storedBytes, 0),
      entriesCount: usage.reduce((sum, u) => sum + u.entriesCount, 0),
      quotaBytes: registry.maxStoredBytes ?? null,
      upstreams: upstreams.map((u) => ({
        upstreamId: u.id,
        name: u.name,
        storedBytes: totals.get(u.id)?.storedBytes ?? 0,
        entriesCount: totals.get(u.id)?.entriesCount ?? 0,
      })),
    };
  }
}
