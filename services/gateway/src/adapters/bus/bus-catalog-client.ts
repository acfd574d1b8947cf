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
import type { ZodType } from 'zod';
import { LruCache } from '../../domain/lru-cache.ts';
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

/**
 * Asks the catalog over request/reply and keeps answers in process:
 * digest-addressed entries forever (they are immutable), tags and registries
 * briefly. When the catalog cannot answer, the last answer is used, so hits
 * keep being served while NATS or the catalog is down. A catalog that
 * replies it failed (INTERNAL: its database is away) counts as unavailable:
 * for this read path it is the same outage, and a 503, not a 500.
 */
export class BusCatalogClient implements CatalogClient {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #options: BusCatalogClientOptions;
  readonly #registries: LruCache<string, RegistryView>;
  readonly #entries: LruCache<string, CacheEntryView>;
  /** Bumped when the catalog says a registry's entries changed; part of every entry key. */
  readonly #generations = new Map<string, number>();

  constructor(bus: EventBus, logger: Logger, options: BusCatalogClientOptions) {
    this.#bus = bus;
    this.#log = logger;
    this.#options = options;
    this.#registries = new LruCache(Math.max(100, Math.floor(options.maxEntries / 100)));
    this.#entries = new LruCache(options.maxEntries);
  }

  async resolveRegistry(registryId: string): Promise<RegistryView> {
    const cached = this.#registries.get(registryId);
    if (cached?.fresh) return cached.value;
    try {
      const view = await this.#ask(Subjects.registryResolve, { registryId }, RegistryViewSchema);
      this.#registries.set(registryId, view, this.#options.registryTtlMs);
      return view;
    } catch (err) {
      if (cached && hasCode(err, ErrorCodes.catalogUnavailable)) {
        this.#log.warn({ registryId }, 'catalog unavailable: using the cached registry');
        // Fresh for another TTL, so the next requests do not each wait out the timeout.
        this.#registries.set(registryId, cached.value, this.#options.registryTtlMs);
        return cached.value;
      }
      if (hasCode(err, ErrorCodes.nameUnknown)) this.#registries.delete(registryId);
      throw err;
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

  async lookupEntry(registryId: string, relativePath: string): Promise<CacheEntryView | undefined> {
    const key = this.#entryKey(registryId, relativePath);
    const cached = this.#entries.get(key);
    if (cached?.fresh) return cached.value;
    try {
      const reply = await this.#ask(Subjects.entryLookup, { registryId, relativePath }, EntryLookupReplySchema);
      if (reply.entry) this.#remember(key, relativePath, reply.entry);
      else if (cached) return cached.value; // the catalog has not consumed our own object.stored yet
      return reply.entry;
    } catch (err) {
      if (!hasCode(err, ErrorCodes.catalogUnavailable)) throw err;
      this.#log.warn({ registryId, cached: cached !== undefined }, 'catalog unavailable: entry lookup answered from the local cache');
      if (cached) this.#remember(key, relativePath, cached.value);
      return cached?.value;
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
    this.#remember(this.#entryKey(registryId, entry.relativePath), entry.relativePath, entry);
  }

  #remember(key: string, relativePath: string, entry: CacheEntryView): void {
    const reference = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    this.#entries.set(key, entry, isDigest(reference) ? Infinity : this.#options.tagTtlMs);
  }
}
