import type { BlobStore } from '@vreg/blob-store';
import { BlobUnknownError, type CacheEntryView, type RegistryView, relativePathOf } from '@vreg/contracts';
import { blobLeaseKey, type FillDeps, type FillSlots, firstUpstreamWith, recordExistingBlob, toUpstreamTarget } from '@vreg/fill';
import type { FillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { type RequestedRange, satisfyRange } from '../domain/byte-range.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { FetchRequester } from './fetch-requester.ts';
import { InFlightBlobs } from './in-flight-blobs.ts';
import { awaitOtherFiller } from './other-filler.ts';
import type { ServedBatcher } from './served-batcher.ts';
import { CacheResults, type ServedObject } from './served-object.ts';
import { SingleFlight } from './single-flight.ts';

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
  /** Directory for the spools clients read misses from. */
  spoolDir: string;
  /** How often a request waiting on another process's fill checks for the object, ms. */
  waitPollMs: number;
  /** Seconds a presigned redirect for a blob hit stays valid; 0 serves hits through the gateway. */
  redirectTtlSeconds: number;
  /** Bounds this process's blob fills per upstream (a miss past it is UPSTREAM_BUSY, 503 with Retry-After). */
  fillSlots: FillSlots;
}

/**
 * Blobs by digest. A hit streams from the store. A miss joins the fill
 * already running in this process, or starts one under the fill lease; when
 * another process holds the lease, it waits for that fill to commit and then
 * serves the stored object, taking over if the holder dies.
 */
export class BlobService {
  readonly #deps: BlobServiceDeps;
  readonly #inFlight: InFlightBlobs;
  readonly #authorizations = new SingleFlight<CacheEntryView>();
  readonly #waits = new SingleFlight<'stored' | 'free' | 'waiting'>();

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
    this.#inFlight = new InFlightBlobs(deps);
  }

  /** Fills running in this process (for health and metrics). */
  get fillsInFlight(): number {
    return this.#inFlight.size;
  }

  /** The blob, or with `range` the bytes it names (RANGE_INVALID when none of them exists). */
  async get(registry: RegistryView, image: string, digest: string, range?: RequestedRange, signal?: AbortSignal): Promise<ServedObject> {
    const relativePath = relativePathOf({ kind: 'blob', image, reference: digest });
    const entry = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
    if (entry && range === undefined && this.#deps.redirectTtlSeconds > 0 && this.#deps.store.presignGet) {
      // The catalog says the object is stored: send the client to the store, the bytes bypass the gateway.
      const location = await this.#deps.store.presignGet(digest, this.#deps.redirectTtlSeconds);
      if (location) {
        this.#deps.served.record(entry.upstreamId, relativePath, entry.size);
        return { digest, contentType: entry.contentType, size: undefined, cache: CacheResults.hit, redirect: location };
      }
    }
    if (entry) {
      const served = await this.#fromStore(digest, entry.contentType, entry.size, range, signal);
      if (served) {
        this.#deps.served.record(entry.upstreamId, relativePath, entry.size);
        return served;
      }
    }
    const deadline = Date.now() + this.#deps.fillTimeoutMs;
    for (;;) {
      const joined = await this.#inFlight.join(registry, image, digest, range);
      if (joined.kind === 'filling') return joined.served;
      // Another process holds the lease: wait for its commit, or for the lease to free up.
      const seen =
        joined.kind === 'stored'
          ? 'stored'
          : await unlessAborted(this.#waitForOtherFiller(digest, Math.min(deadline, Date.now() + this.#deps.leaseTtlMs * 2)), signal);
      if (seen === 'stored') {
        const stored = await this.#serveStored(registry, image, digest, range, signal);
        if (stored) return stored;
      }
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new BlobUnknownError('the blob is still being fetched by another process; retry later', { digest });
    }
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

  /**
   * The store already has the bytes (another registry, image or process
   * fetched them): serve them once one of this registry's own upstreams
   * confirms it has the blob.
   */
  async #serveStored(
    registry: RegistryView,
    image: string,
    digest: string,
    range: RequestedRange | undefined,
    signal?: AbortSignal,
  ): Promise<ServedObject | undefined> {
    const stored = await this.#deps.store.stat(digest, signal);
    if (!stored) return undefined;
    // One upstream HEAD for every request that waited on the same commit, not one each.
    const entry = await this.#authorizations.run(`${registry.id}|${image}|${digest}`, () =>
      recordExistingBlob(this.#deps.fill, registry, image, digest, stored.size),
    );
    this.#deps.catalog.remember(registry.id, entry);
    return this.#fromStore(digest, entry.contentType, stored.size, range, signal);
  }

  /** Reads the stored blob, or its range; undefined when the store no longer has it. */
  async #fromStore(
    digest: string,
    contentType: string,
    size: number,
    requested: RequestedRange | undefined,
    signal?: AbortSignal,
  ): Promise<ServedObject | undefined> {
    const range = requested === undefined ? undefined : satisfyRange(requested, size);
    const read = await this.#deps.store.get(digest, {
      ...(signal ? { signal } : {}),
      ...(range ? { range: { start: range.start, end: range.end } } : {}),
    });
    if (!read) return undefined;
    return { digest, contentType, size: read.size, read, cache: CacheResults.hit, ...(range ? { range } : {}) };
  }

  /**
   * Until the other filler's commit shows up in the store ('stored'), its
   * lease is gone from the lease store ('free': it gave up or died; the
   * caller then tries to take over), or `until` passed ('waiting'). One poll
   * per digest however many requests wait on it.
   */
  #waitForOtherFiller(digest: string, until: number): Promise<'stored' | 'free' | 'waiting'> {
    return this.#waits.run(digest, async () => {
      const outcome = await awaitOtherFiller({
        look: async () => ((await this.#deps.store.stat(digest)) ? ('stored' as const) : undefined),
        leases: this.#deps.leases,
        leaseKey: blobLeaseKey(digest),
        pollMs: this.#deps.waitPollMs,
        until,
      });
      return typeof outcome === 'object' ? outcome.found : outcome;
    });
  }
}

/** `work`, or the abort reason as soon as `signal` fires (the work itself goes on for others). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
