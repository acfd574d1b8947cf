import { BlobUnknownError, relativePathOf, type CacheEntryView, type RegistryView } from '@vreg/contracts';
import type { BlobStore } from '@vreg/blob-store';
import type { FillLease, Lease } from '@vreg/fill-lease';
import { firstUpstreamWith, recordExistingBlob, startBlobFill, toUpstreamTarget, type FillDeps } from '@vreg/fill';
import type { Logger } from '@vreg/logging';
import { blobLeaseKey } from '@vreg/fill';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { FetchRequester } from './fetch-requester.ts';
import type { ServedBatcher } from './served-batcher.ts';
import { CacheResults, type ServedObject } from './served-object.ts';

export interface BlobServiceDeps {
  fill: FillDeps;
  catalog: CatalogClient;
  store: BlobStore;
  leases: FillLease;
  fetches: FetchRequester;
  served: ServedBatcher;
  logger: Logger;
  /** This process's lease holder id. */
  holderId: string;
  leaseTtlMs: number;
  fillTimeoutMs: number;
  clientBufferBytes: number;
}

/**
 * Blobs by digest. A hit streams from the store. A miss takes the fill lease
 * and streams the first upstream that has the blob to the client while the
 * same bytes go to the store and through the digest check; without the lease
 * (another process is filling) it streams through without storing.
 */
export class BlobService {
  readonly #deps: BlobServiceDeps;

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
  }

  async get(registry: RegistryView, image: string, digest: string, signal?: AbortSignal): Promise<ServedObject> {
    const relativePath = relativePathOf({ kind: 'blob', image, reference: digest });
    const entry = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
    if (entry) {
      const read = await this.#deps.store.get(digest, signal ? { signal } : {});
      if (read) {
        this.#deps.served.record(entry.upstreamId, relativePath);
        return { digest, contentType: entry.contentType, size: read.size, body: read.body, cache: CacheResults.hit };
      }
    }
    const stored = await this.#deps.store.stat(digest, signal);
    if (stored) {
      const shared = await recordExistingBlob(this.#deps.fill, registry, image, digest, stored.size, signal);
      this.#deps.catalog.remember(registry.id, shared);
      const read = await this.#deps.store.get(digest, signal ? { signal } : {});
      if (read) return { digest, contentType: shared.contentType, size: read.size, body: read.body, cache: CacheResults.hit };
    }
    return this.#fill(registry, image, digest);
  }

  /** HEAD: from the catalog when cached, else from the upstream's HEAD, without downloading. */
  async head(registry: RegistryView, image: string, digest: string, signal?: AbortSignal): Promise<ServedObject> {
    const relativePath = relativePathOf({ kind: 'blob', image, reference: digest });
    const entry = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
    if (entry) return { digest, contentType: entry.contentType, size: entry.size, cache: CacheResults.hit };
    const { value } = await firstUpstreamWith(
      registry.upstreams,
      (u) => this.#deps.fill.upstreams.headBlob(toUpstreamTarget(u, this.#deps.fill.secrets), image, digest, signal ? { signal } : {}),
      () => new BlobUnknownError('blob unknown to every upstream of this registry', { digest }),
    );
    return { digest, contentType: value.contentType ?? 'application/octet-stream', size: value.contentLength, cache: CacheResults.miss };
  }

  async #fill(registry: RegistryView, image: string, digest: string): Promise<ServedObject> {
    // Lease first, then the request: a fetcher that sees the request finds the lease taken and waits.
    const lease = await this.#deps.leases.acquire(blobLeaseKey(digest), this.#deps.leaseTtlMs, this.#deps.holderId);
    await this.#deps.fetches.request(registry.id, { kind: 'blob', image, reference: digest });
    const renewal = lease ? keepRenewed(lease, this.#deps.leaseTtlMs, this.#deps.logger) : undefined;
    const finish = (): void => {
      if (renewal) clearInterval(renewal);
      void lease?.release();
    };
    try {
      // The fill has its own deadline: it keeps going when the client leaves.
      const fill = await startBlobFill(this.#deps.fill, registry, image, digest, {
        store: lease !== undefined,
        withClient: true,
        signal: AbortSignal.timeout(this.#deps.fillTimeoutMs),
        clientBufferBytes: this.#deps.clientBufferBytes,
      });
      fill.done
        .then((entry: CacheEntryView) => {
          if (lease) this.#deps.catalog.remember(registry.id, entry);
        })
        .catch((err: Error & { code?: string }) => this.#deps.logger.warn({ registryId: registry.id, digest, code: err.code, err: err.message }, 'blob fill failed'))
        .finally(finish);
      return { digest, contentType: fill.contentType, size: fill.size, body: fill.client, cache: lease ? CacheResults.miss : CacheResults.passThrough };
    } catch (err) {
      finish();
      throw err;
    }
  }
}

/** Renews the lease at a third of its TTL while the fill runs. */
function keepRenewed(lease: Lease, ttlMs: number, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    lease.renew().then(
      (kept) => {
        if (!kept) logger.warn({ key: lease.key }, 'fill lease lost while filling');
      },
      (err: Error) => logger.warn({ key: lease.key, err: err.message }, 'fill lease renewal failed'),
    );
  }, Math.max(250, Math.floor(ttlMs / 3)));
  timer.unref();
  return timer;
}
