import type { BlobStore } from '@vreg/blob-store';
import {
  type CacheEntryView,
  ErrorCodes,
  hasCode,
  isManifestMediaType,
  ManifestUnknownError,
  type RegistryView,
  relativePathOf,
} from '@vreg/contracts';
import { type FillDeps, type FilledManifest, fetchManifest, manifestLeaseKey, readBounded, storeManifest } from '@vreg/fill';
import type { FillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { isDigest } from '@vreg/oci';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import { LRUCache } from 'lru-cache';
import { type ByteBudgetCache, byteBudgetCache } from '../domain/byte-budget-cache.ts';
import { isTagEntryFresh } from '../domain/tag-freshness.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { FetchRequester } from './fetch-requester.ts';
import { awaitOtherFiller } from './other-filler.ts';
import type { ServedBatcher } from './served-batcher.ts';
import { CacheResults, type ServedObject } from './served-object.ts';
import { TagRevalidator } from './tag-revalidator.ts';

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
  /** How long an upstream "no such manifest" is remembered, ms; 0 turns the negative cache off. */
  negativeCacheMs: number;
  /** Manifest bytes kept in memory by digest, bytes; 0 reads every hit from the store. */
  manifestCacheBytes: number;
}

/** How a manifest is wanted. */
export interface ManifestGetOptions {
  /** GET (true) or HEAD (false). */
  withBody: boolean;
  /** The client went away: stops reading the store (a fill goes on, it is shared). */
  signal?: AbortSignal;
}

/**
 * Manifests by tag or digest: from the cache when present (tags revalidated
 * once their upstream's validity ran out, served stale when the upstream
 * fails), else filled from the first upstream that has them. Manifests are
 * small and bounded, so they are handled whole; blobs never are.
 *
 * Content negotiation: an upstream is always asked for every current
 * manifest type, so the cache holds the one form the upstream stores, and
 * that form is served whatever the client's Accept, with its real
 * Content-Type. By digest this is content addressing: the bytes are the
 * digest. By tag, a client whose Accept leaves out the only form there is
 * gets it all the same, as RFC 9110 §12.5.1 allows, rather than what
 * distribution 2.x does (a schema 1 conversion for schema 2, another
 * digest; 404 for OCI) or a 404 that would deny a manifest that exists;
 * the Content-Type tells the client what it got.
 */
export class ManifestService {
  readonly #deps: ManifestServiceDeps;
  /** Fills running here, by reference, until their manifest is stored. */
  readonly #fills = new Map<string, Promise<FilledManifest>>();
  /** Every fill's whole run, its store and announcement included: what stopping waits for. */
  readonly #running = new Set<Promise<void>>();
  readonly #unknown = new LRUCache<string, true>({ max: 10_000 });
  readonly #revalidator: TagRevalidator;
  readonly #bytes: ByteBudgetCache;

  constructor(deps: ManifestServiceDeps) {
    this.#deps = deps;
    this.#bytes = byteBudgetCache(deps.manifestCacheBytes);
    this.#revalidator = new TagRevalidator(deps);
  }

  /** @throws MANIFEST_UNKNOWN when no upstream has it (or only as Docker schema 1). */
  async get(registry: RegistryView, image: string, reference: string, options: ManifestGetOptions): Promise<ServedObject> {
    const { withBody, signal } = options;
    const relativePath = relativePathOf({ kind: 'manifest', image, reference });
    const found = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
    // An entry an older vreg recorded under a type no manifest has is never served as is: fetched again, and checked.
    const entry = found && isManifestMediaType(found.contentType) ? found : undefined;
    if (entry) {
      const upstream = registry.upstreams.find((u) => u.id === entry.upstreamId);
      let cache: ServedObject['cache'] = CacheResults.hit;
      if (!isDigest(reference) && !isTagEntryFresh(entry, upstream, new Date())) {
        const outcome = await this.#revalidator.revalidate(registry, image, reference, entry, signal);
        if (outcome === 'failed') cache = CacheResults.stale;
        if (outcome === 'changed') return this.#refill(registry, image, reference, withBody, entry, signal);
      }
      const served = await this.#fromStore(entry, withBody, cache, signal);
      if (served) return served;
    }
    return this.#served(await this.#fill(registry, image, reference, found), withBody, CacheResults.miss);
  }

  /** The tag moved upstream: fetch the new manifest, or serve the old one if the upstream fails meanwhile. */
  async #refill(
    registry: RegistryView,
    image: string,
    reference: string,
    withBody: boolean,
    entry: CacheEntryView,
    signal?: AbortSignal,
  ): Promise<ServedObject> {
    try {
      return this.#served(await this.#fill(registry, image, reference, entry), withBody, CacheResults.miss);
    } catch (err) {
      if (hasCode(err, ErrorCodes.manifestUnknown)) throw err;
      const stale = await this.#fromStore(entry, withBody, CacheResults.stale, signal);
      if (stale) return stale;
      throw err;
    }
  }

  async #fromStore(
    entry: CacheEntryView,
    withBody: boolean,
    cache: ServedObject['cache'],
    signal?: AbortSignal,
  ): Promise<ServedObject | undefined> {
    if (!withBody) return { digest: entry.digest, contentType: entry.contentType, size: entry.size, cache };
    const body = await this.#storedBytes(entry.digest, signal);
    if (body === undefined) return undefined; // recorded but gone from the store: fill again
    this.#deps.served.record(entry.upstreamId, entry.relativePath, entry.size);
    return { digest: entry.digest, contentType: entry.contentType, size: body.length, cache, body };
  }

  /** A stored manifest's bytes, from memory when we have them (digest-addressed bytes never change); undefined when the store lost them. */
  async #storedBytes(digest: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    const kept = this.#bytes.get(digest);
    if (kept !== undefined) return kept;
    const read = await this.#deps.store.get(digest, signal ? { signal } : {});
    if (read === undefined) return undefined;
    const bytes = await readBounded(read.body, this.#deps.fill.manifestMaxBytes);
    this.#bytes.set(digest, bytes);
    return bytes;
  }

  #served(filled: FilledManifest, withBody: boolean, cache: ServedObject['cache']): ServedObject {
    this.#bytes.set(filled.digest, filled.bytes);
    return {
      digest: filled.digest,
      contentType: filled.contentType,
      size: filled.bytes.length,
      cache,
      ...(withBody ? { body: filled.bytes } : {}),
    };
  }

  /**
   * The verified manifest, from the fill running here or a new one. A fill
   * answers its clients as soon as the upstream's bytes are verified; it
   * stores and announces them afterwards, still under its lease, and until
   * that is done a request for the same reference, or for the digest a tag
   * resolved to, joins it instead of going upstream again. `previous` is the
   * entry already recorded for it, if any: never taken for a new answer.
   */
  #fill(registry: RegistryView, image: string, reference: string, previous: CacheEntryView | undefined): Promise<FilledManifest> {
    const key = fillKey(registry.id, image, reference);
    if (this.#unknown.get(key)) {
      return Promise.reject(
        new ManifestUnknownError('manifest unknown to every upstream of this registry (remembered)', { name: image, reference }),
      );
    }
    const running = this.#fills.get(key);
    if (running) return running;
    const verified = settleable<FilledManifest>();
    // Only the requests that join it observe a failure; none may go unhandled.
    verified.promise.catch(() => undefined);
    this.#fills.set(key, verified.promise);
    const keys = [key];
    const run = this.#fillUnderLease(registry, image, reference, previous, {
      verified: (filled) => {
        const byDigest = fillKey(registry.id, image, filled.digest);
        if (!this.#fills.has(byDigest)) {
          this.#fills.set(byDigest, verified.promise);
          keys.push(byDigest);
        }
        this.#bytes.set(filled.digest, filled.bytes);
        verified.resolve(filled);
      },
      failed: (err) => {
        // A broken deployment asking for a missing tag must not hammer the upstream.
        if (hasCode(err, ErrorCodes.manifestUnknown) && this.#deps.negativeCacheMs > 0)
          this.#unknown.set(key, true, { ttl: this.#deps.negativeCacheMs });
        verified.reject(err);
      },
    }).finally(() => {
      for (const k of keys) if (this.#fills.get(k) === verified.promise) this.#fills.delete(k);
      this.#running.delete(run);
    });
    this.#running.add(run);
    return verified.promise;
  }

  /**
   * Waits for the fills running here to store and announce what their
   * clients already got: a manifest answered just before a stop is still
   * recorded. Each is bounded by the fill timeout; manifests are small.
   */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Under the manifest's lease: the fetch request (published while the
   * upstream is asked, and out before any client has the bytes, so the
   * fetcher finishes the job if this process dies), the upstream's verified
   * bytes (`verified`), then the store and the announcement, which no client
   * waits for. A store that fails is left to the fetcher. When another
   * process holds the lease, its answer is taken once recorded.
   */
  async #fillUnderLease(
    registry: RegistryView,
    image: string,
    reference: string,
    previous: CacheEntryView | undefined,
    outcome: { verified: (filled: FilledManifest) => void; failed: (err: Error) => void },
  ): Promise<void> {
    const signal = AbortSignal.timeout(this.#deps.fillTimeoutMs);
    let lease: Awaited<ReturnType<FillLease['acquire']>>;
    let filled: FilledManifest;
    try {
      lease = await this.#deps.leases.acquire(manifestLeaseKey(registry.id, image, reference), this.#deps.leaseTtlMs, this.#deps.holderId);
      // Another process is asking the upstream for it: one request, not one per process
      // (registries count manifest GETs against their rate limits).
      const theirs = lease ? undefined : await this.#otherProcessFill(registry, image, reference, previous, signal);
      if (theirs) {
        outcome.verified(theirs);
        return;
      }
    } catch (err) {
      outcome.failed(err as Error);
      return;
    }
    // Under the lease, or without it once its holder let go without a record or took too long: manifests are small.
    try {
      // Lease first, then the request: a fetcher that sees the request finds the lease taken and waits.
      const requested = this.#deps.fetches.request(registry.id, { kind: 'manifest', image, reference });
      try {
        filled = await fetchManifest(this.#deps.fill, registry, image, reference, signal);
      } finally {
        await requested;
      }
    } catch (err) {
      outcome.failed(err as Error);
      await lease?.release();
      return;
    }
    outcome.verified(filled);
    try {
      await storeManifest(this.#deps.fill, registry.id, filled);
      for (const e of filled.entries) this.#deps.catalog.remember(registry.id, e);
    } catch (err) {
      this.#deps.logger.warn(
        { registryId: registry.id, digest: filled.digest, code: (err as { code?: string }).code, err: (err as Error).message },
        'storing a manifest failed: the fetcher fills it',
      );
    } finally {
      await lease?.release();
    }
  }

  /**
   * The manifest another process is filling, read from the store once the
   * catalog has its record (a record other than `previous`). Undefined when
   * the holder let go of the lease and no record came within
   * OTHER_FILL_GRACE_MS (it failed, or its record is late: this process asks
   * the upstream itself), when OTHER_FILL_MAX_WAIT_MS passed (a holder that
   * died keeps its lease until the TTL), or when `signal` fired. A
   * failure while looking (the catalog, the lease store or the store
   * unreachable) is also undefined: waiting is a saving, never a new way to fail.
   */
  async #otherProcessFill(
    registry: RegistryView,
    image: string,
    reference: string,
    previous: CacheEntryView | undefined,
    signal: AbortSignal,
  ): Promise<FilledManifest | undefined> {
    const relativePath = relativePathOf({ kind: 'manifest', image, reference });
    try {
      const outcome = await awaitOtherFiller<FilledManifest>({
        look: async () => {
          const entry = await this.#deps.catalog.lookupEntry(registry.id, relativePath);
          const recorded =
            entry !== undefined &&
            isManifestMediaType(entry.contentType) &&
            (previous === undefined || entry.digest !== previous.digest || entry.upstreamCheckedAt !== previous.upstreamCheckedAt);
          if (!recorded) return undefined;
          const bytes = await this.#storedBytes(entry.digest, signal);
          if (bytes === undefined) return undefined;
          return { bytes, digest: entry.digest, contentType: entry.contentType, upstreamId: entry.upstreamId, entries: [entry] };
        },
        leases: this.#deps.leases,
        leaseKey: manifestLeaseKey(registry.id, image, reference),
        pollMs: OTHER_FILL_POLL_MS,
        until: Date.now() + OTHER_FILL_MAX_WAIT_MS,
        graceMs: OTHER_FILL_GRACE_MS,
        signal,
      });
      return typeof outcome === 'object' ? outcome.found : undefined;
    } catch (err) {
      this.#deps.logger.debug(
        { registryId: registry.id, image, reference, err: (err as Error).message },
        'waiting on another process for a manifest failed: asking the upstream',
      );
      return undefined;
    }
  }
}

/** How often a manifest miss waiting on another process's fill looks for its record, ms: the wait should not be much longer than asking the upstream. */
const OTHER_FILL_POLL_MS = 25;
/**
 * How long after the other process let go of its lease its record may still be on its way to
 * the catalog (the bus, the catalog's consumer, its database), ms; only a holder that failed
 * (a tag the upstream does not have, say) makes a waiter wait it out before asking the upstream itself.
 */
const OTHER_FILL_GRACE_MS = 1000;
/** The longest a manifest miss waits on another process, ms: past it, it asks the upstream itself (a slow upstream then gets two requests, as before any waiting). */
const OTHER_FILL_MAX_WAIT_MS = 3000;

/** Where a fill of `reference` runs: per registry and repository (the upstream vouched for that repository only). */
function fillKey(registryId: string, image: string, reference: string): string {
  return `${registryId}/${image}/${reference}`;
}

/** A promise with its settle functions (Promise.withResolvers, which our TypeScript lib does not declare yet). */
function settleable<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
