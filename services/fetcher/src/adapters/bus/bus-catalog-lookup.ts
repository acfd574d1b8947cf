import type { EventBus } from '@vreg/bus';
import { type CacheEntryView, EntryLookupReplySchema, type RegistryView, RegistryViewSchema, Subjects } from '@vreg/contracts';
import type { CatalogLookup } from '../../ports/catalog-lookup.ts';

/** Catalog lookups over request/reply. */
export class BusCatalogLookup implements CatalogLookup {
  readonly #bus: EventBus;
  readonly #timeoutMs: number;

  constructor(bus: EventBus, timeoutMs: number) {
    this.#bus = bus;
    this.#timeoutMs = timeoutMs;
  }

  resolveRegistry(registryId: string): Promise<RegistryView> {
    return this.#bus.request(Subjects.registryResolve, { registryId }, { schema: RegistryViewSchema, timeoutMs: this.#timeoutMs });
  }

  async lookupEntry(registryId: string, relativePath: string): Promise<CacheEntryView | undefined> {
    const reply = await this.#bus.request(
      Subjects.entryLookup,
      { registryId, relativePath },
      { schema: EntryLookupReplySchema, timeoutMs: this.#timeoutMs },
    );
    return reply.entry;
  }
}
