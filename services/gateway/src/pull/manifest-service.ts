import { relativePathOf, type CacheEntryView, type RegistryView } from '@vreg/contracts';
import type { BlobStore } from '@vreg/blob-store';
import { fillManifest, manifestLeaseKey, publishStored, toUpstreamTarget, type FillDeps, type FilledManifest } from '@vreg/fill';
import { isDigest } from '@vreg/oci';
import type { FillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import { isTagEntryFresh } from '../domain/tag-freshness.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { FetchRequester } from './fetch-requester.ts';
import type { ServedBatcher } from './served-batcher.ts';
import { CacheResults, type ServedObject } from './served-object.ts';
import { SingleFlight } from './single-flight.ts';

export interface ManifestServiceDeps {
  fill: FillDeps;
  catalog: CatalogClient;
  store: BlobStore;
  upstreams: UpstreamRegistry;
  fetches: FetchRequester;
  served: ServedBatcher;
  logger: Logger;
  /** The fill's own deadline, ms: it is shared by every waiting client, so no client's signal may end it. */
  fillTimeoutMs: number;
  leases: FillLease;
  holderId: string;
  leaseTtlMs: number;
}

/**
 * Manifests by tag or digest: from the cache when present (tags revalidated
 * once their upstream's validity ran out), else filled from the first
 * upstream that has them. Manifests are small and bounded, so they are
 * handled whole; blobs never are.
 */
export class ManifestService {
  readonly #deps: ManifestServiceDeps;
  readonly #fills = new SingleFlight<FilledManifest>();

  constructor(deps: ManifestServiceDeps) {
    this.#deps = deps;
  }

  async get(registry: RegistryView, image: string, reference: string, withBody: boolean, signal?: AbortSignal): Promise<ServedObject> {
    const relativePath = relativePathOf({ kind: 'manifest', image, reference });
    const entry = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
    if (entry) {
      const cached = await this.#fromCache(registry, image, reference, entry, withBody, signal);
      if (cached) return cached;
    }
    const filled = await this.#fill(registry, image, reference);
    return { digest: filled.digest, contentType: filled.contentType, size: filled.bytes.length, cache: CacheResults.miss, ...(withBody ? { body: filled.bytes } : {}) };
  }

  async #fromCache(registry: RegistryView, image: string, reference: string, entry: CacheEntryView, withBody: boolean, signal?: AbortSignal): Promise<ServedObject | undefined> {
    let cache: ServedObject['cache'] = CacheResults.hit;
    const upstream = registry.upstreams.find((u) => u.id === entry.upstreamId);
    if (!isDigest(reference) && !isTagEntryFresh(entry, upstream, new Date())) {
      const outcome = await this.#revalidate(registry, image, reference, entry, signal);
      if (outcome === 'changed') return undefined;
      if (outcome === 'failed') cache = CacheResults.stale;
    }
    const read = withBody ? await this.#deps.store.get(entry.digest, signal ? { signal } : {}) : undefined;
    if (withBody && read === undefined) return undefined; // recorded but gone from the store: fill again
    if (withBody) this.#deps.served.record(entry.upstreamId, entry.relativePath);
    return { digest: entry.digest, contentType: entry.contentType, size: entry.size, cache, ...(read ? { body: read.body } : {}) };
  }

  /**
   * Asks the entry's upstream, with a HEAD, whether the tag still points at
   * the cached digest. Unchanged → only the checked-at time moves. Any
   * upstream trouble → serve the cached copy (stale-if-error).
   */
  async #revalidate(registry: RegistryView, image: string, reference: string, entry: CacheEntryView, signal?: AbortSignal): Promise<'unchanged' | 'changed' | 'failed'> {
    const upstream = registry.upstreams.find((u) => u.id === entry.upstreamId);
    if (!upstream) return 'changed';
    try {
      const head = await this.#deps.upstreams.headManifest(toUpstreamTarget(upstream, this.#deps.fill.secrets), image, reference, signal ? { signal } : {});
      if (head === undefined || head.dockerContentDigest !== entry.digest) return 'changed';
      const touched: CacheEntryView = { ...entry, upstreamCheckedAt: new Date().toISOString() };
      this.#deps.catalog.remember(registry.id, touched);
      await publishStored(this.#deps.fill.bus, registry.id, [touched], new Date()).catch((err: Error) =>
        this.#deps.logger.warn({ err: err.message }, 'publishing the revalidated entry failed'),
      );
      return 'unchanged';
    } catch (err) {
      this.#deps.logger.warn({ registryId: registry.id, upstreamId: upstream.id, code: (err as { code?: string }).code }, 'tag revalidation failed: serving the cached manifest');
      return 'failed';
    }
  }

  #fill(registry: RegistryView, image: string, reference: string): Promise<FilledManifest> {
    return this.#fills.run(`${registry.id}/${image}/${reference}`, async () => {
      // Manifests are small: fill even without the lease; holding it only tells the fetcher to wait.
      const lease = await this.#deps.leases.acquire(manifestLeaseKey(registry.id, image, reference), this.#deps.leaseTtlMs, this.#deps.holderId);
      try {
        await this.#deps.fetches.request(registry.id, { kind: 'manifest', image, reference });
        const filled = await fillManifest(this.#deps.fill, registry, image, reference, AbortSignal.timeout(this.#deps.fillTimeoutMs));
        for (const e of filled.entries) this.#deps.catalog.remember(registry.id, e);
        return filled;
      } finally {
        await lease?.release();
      }
    });
  }
}
