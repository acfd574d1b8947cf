import type { EventBus } from '@vreg/bus';
import {
  type CacheEntryView,
  CatalogUnavailableError,
  EntryLookupReplySchema,
  ErrorCodes,
  hasCode,
  type RegistryView,
  RegistryViewSchema,
  Subjects,
} from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { isDigest } from '@vreg/oci';
import { LRUCache } from 'lru-cache';
import type { ZodType } from 'zod';
import type { CatalogClient } from '../../ports/catalog-client.ts';

export interface BusCatalogClientOptions {
  /** Milliseconds a registry's upstream list is reused before asking again. */
  registryTtlMs: number;
  /** Milliseconds a tag lookup is reused (tags move; digests never do). */
  tagTtlMs: number;
  /** Request timeout, ms. */
  timeoutMs: number;
  /** Entries kept in process. */
  maxEntries: number;
}

/** Where an entry lookup goes; the cache key adds the registry's generation. */
interface EntryAddress {
  registryId: string;
  relativePath: string;
}

/**
 * lru-cache reads a TTL of 0 as "never stale", where our 0 means "ask every
 * time": 1 ms is the shortest it keeps, and it still holds the answer for
 * the fallback.
 */
const staleAfter = (ttlMs: number): number => Math.max(1, ttlMs);

/**
 * Asks the catalog over request/reply and keeps answers in process:
 * digest-addressed entries forever (they are immutable), tags and registries
 * briefly. When the catalog cannot answer, the last answer is used, so hits
 * keep being served while NATS or the catalog is down. A catalog that
 * replies it failed (INTERNAL: its database is away) counts as unavailable:
 * for this read path it is the same outage, and a 503, not a 500.
 *
 * Both caches are lru-cache `fetch` caches: concurrent lookups of one key
 * share one request, and the fetch method gets the stale value to fall back
 * on (stale-if-error). `ignoreFetchAbort` keeps an answer in flight when its
 * key is forgotten or set meanwhile: the caller still gets an answer, never
 * an abort.
 */
export class BusCatalogClient implements CatalogClient {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #options: BusCatalogClientOptions;
  readonly #registries: LRUCache<string, RegistryView>;
  readonly #entries: LRUCache<string, CacheEntryView, EntryAddress>;
  /** Bumped when the catalog says a registry's entries changed; part of every entry key. */
  readonly #generations = new Map<string, number>();

  constructor(bus: EventBus, logger: Logger, options: BusCatalogClientOptions) {
    this.#bus = bus;
    this.#log = logger;
    this.#options = options;
    this.#registries = new LRUCache<string, RegistryView>({
      max: Math.max(100, Math.floor(options.maxEntries / 100)),
      ttl: staleAfter(options.registryTtlMs),
      // A failure other than "unavailable" (a malformed answer) keeps the last good answer for the next try.
      noDeleteOnFetchRejection: true,
      ignoreFetchAbort: true,
      fetchMethod: (registryId, stale) => this.#fetchRegistry(registryId, stale),
    });
    this.#entries = new LRUCache<string, CacheEntryView, EntryAddress>({
      max: options.maxEntries,
      noDeleteOnFetchRejection: true,
      ignoreFetchAbort: true,
      // remember() during a lookup of the same key (our own fill just committed) aborts that lookup: it answers
      // at once instead of rejecting, and lookupEntry then reads what was remembered.
      allowStaleOnFetchAbort: true,
      fetchMethod: (_key, stale, { options: set, context }) => {
        set.ttl = this.#entryTtl(context.relativePath);
        return this.#fetchEntry(context, stale);
      },
    });
  }

  async resolveRegistry(registryId: string): Promise<RegistryView> {
    try {
      const view = await this.#registries.fetch(registryId);
      // fetchRegistry never resolves empty: it answers or throws.
      if (view === undefined) throw new CatalogUnavailableError(`no answer for registry ${registryId}`);
      return view;
    } catch (err) {
      if (hasCode(err, ErrorCodes.nameUnknown)) this.#registries.delete(registryId);
      throw err;
    }
  }

  async #fetchRegistry(registryId: string, stale: RegistryView | undefined): Promise<RegistryView> {
    try {
      return await this.#ask(Subjects.registryResolve, { registryId }, RegistryViewSchema);
    } catch (err) {
      if (stale === undefined || !hasCode(err, ErrorCodes.catalogUnavailable)) throw err;
      this.#log.warn({ registryId }, 'catalog unavailable: using the cached registry');
      // Cached again for another TTL, so the next requests do not each wait out the timeout.
      return stale;
    }
  }

  /**
   * Drops what is cached for the registry: the catalog broadcast that some of
   * its entries left the live set (purge, cleanup, quota). Bumping the
   * registry's generation makes every cached lookup of it unreachable at once;
   * the LRU evicts them in time.
   */
  forgetRegistry(registryId: string): void {
    this.#generations.set(registryId, (this.#generations.get(registryId) ?? 0) + 1);
    this.#registries.delete(registryId);
  }

  #entryKey(registryId: string, relativePath: string): string {
    return `${registryId}#${this.#generations.get(registryId) ?? 0}/${relativePath}`;
  }

  /** Digest-addressed entries never go stale (lru-cache's ttl 0); tags for the tag TTL. */
  #entryTtl(relativePath: string): number {
    const reference = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    return isDigest(reference) ? 0 : staleAfter(this.#options.tagTtlMs);
  }

  async lookupEntry(registryId: string, relativePath: string): Promise<CacheEntryView | undefined> {
    const key = this.#entryKey(registryId, relativePath);
    return (await this.#entries.fetch(key, { context: { registryId, relativePath } })) ?? this.#entries.get(key);
  }

  /** Resolves undefined (and forgets the key) when neither the catalog nor the cache has the entry. */
  async #fetchEntry(address: EntryAddress, stale: CacheEntryView | undefined): Promise<CacheEntryView | undefined> {
    try {
      const reply = await this.#ask(Subjects.entryLookup, address, EntryLookupReplySchema);
      // No entry yet, but one cached: the catalog has not consumed our own object.stored yet.
      return reply.entry ?? stale;
    } catch (err) {
      if (!hasCode(err, ErrorCodes.catalogUnavailable)) throw err;
      this.#log.warn(
        { registryId: address.registryId, cached: stale !== undefined },
        'catalog unavailable: entry lookup answered from the local cache',
      );
      return stale;
    }
  }

  async #ask<T>(subject: string, payload: unknown, schema: ZodType<T>): Promise<T> {
    try {
      return await this.#bus.request(subject, payload, { schema, timeoutMs: this.#options.timeoutMs });
    } catch (err) {
      if (hasCode(err, ErrorCodes.internal)) throw new CatalogUnavailableError(`the catalog failed to answer ${subject}`, err);
      throw err;
    }
  }

  remember(registryId: string, entry: CacheEntryView): void {
    this.#entries.set(this.#entryKey(registryId, entry.relativePath), entry, { ttl: this.#entryTtl(entry.relativePath) });
  }
}
