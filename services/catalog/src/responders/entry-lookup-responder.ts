import type { EventBus, Subscription } from '@vreg/bus';
import {
  type CacheEntryView,
  type EntryLookupReply,
  type EntryLookupRequest,
  EntryLookupRequestSchema,
  NameUnknownError,
  Subjects,
} from '@vreg/contracts';
import type { CacheEntry } from '../domain/cache-entry.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';

/** A cache entry as the data plane sees it. */
export function toCacheEntryView(entry: CacheEntry): CacheEntryView {
  return {
    upstreamId: entry.upstreamId,
    relativePath: entry.relativePath,
    digest: entry.digest,
    contentType: entry.contentType,
    size: entry.size,
    ...(entry.upstreamEtag === undefined ? {} : { upstreamEtag: entry.upstreamEtag }),
    upstreamCheckedAt: entry.upstreamCheckedAt.toISOString(),
  };
}

/**
 * Answers `vreg.catalog.entry.lookup`: the entry for a path from the first of
 * the registry's upstreams, in order, that has one with status `default`.
 * Entries are scoped to upstreams, so a registry only ever sees what its own
 * upstreams delivered, whatever the blob store holds underneath.
 */
export class EntryLookupResponder {
  readonly #store: CatalogStore;

  constructor(deps: { store: CatalogStore }) {
    this.#store = deps.store;
  }

  /** Starts answering; stop the returned subscription to stop. */
  start(bus: EventBus): Promise<Subscription> {
    return bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, this.handle);
  }

  /** `{ entry }` on a hit, `{}` on a miss. @throws NameUnknownError when there is no such registry. */
  readonly handle = async (request: EntryLookupRequest): Promise<EntryLookupReply> => {
    const upstreams = await this.#store.upstreams.listByRegistry(request.registryId);
    if (upstreams.length === 0) {
      // Tell "unknown registry" from "registry without upstreams" only on
      // this rare path, so a hit costs two queries, not three.
      if ((await this.#store.registries.get(request.registryId)) === undefined) {
        throw new NameUnknownError('registry not found', { registryId: request.registryId });
      }
      return {};
    }
    const entry = await this.#store.cacheEntries.findFirst(
      upstreams.map((u) => u.id),
      request.relativePath,
    );
    return entry === undefined ? {} : { entry: toCacheEntryView(entry) };
  };
}
