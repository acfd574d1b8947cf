import type { EventBus } from '@vreg/bus';
import { Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { UpstreamRepository } from '../ports/upstream-repository.ts';

export interface EntryInvalidationsDeps {
  bus: EventBus;
  upstreams: Pick<UpstreamRepository, 'get'>;
  logger: Logger;
  /** Milliseconds notes are gathered before one broadcast; a purge of many entries costs one message. */
  flushDelayMs?: number;
}

/**
 * Tells every gateway that entries of some registries left the live set,
 * so a purge, cleanup or quota eviction stops being served at once instead
 * of when the gateways' lookup caches would have expired (never, for digests).
 * Notes are gathered briefly and sent as one best-effort broadcast.
 */
export class EntryInvalidations {
  readonly #deps: EntryInvalidationsDeps;
  readonly #pending = new Set<string>();
  readonly #registryOf = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #resolving: Promise<unknown> = Promise.resolve();

  constructor(deps: EntryInvalidationsDeps) {
    this.#deps = deps;
  }

  /** Entries of this upstream were marked or removed. */
  noteUpstream(upstreamId: string): void {
    const known = this.#registryOf.get(upstreamId);
    if (known !== undefined) {
      this.noteRegistry(known);
      return;
    }
    this.#resolving = this.#resolving.then(async () => {
      const upstream = await this.#deps.upstreams.get(upstreamId).catch(() => undefined);
      if (upstream === undefined) return;
      this.#registryOf.set(upstreamId, upstream.registryId);
      this.noteRegistry(upstream.registryId);
    });
  }

  noteRegistry(registryId: string): void {
    this.#pending.add(registryId);
    this.#timer ??= setTimeout(() => void this.flush(), this.#deps.flushDelayMs ?? 100);
    this.#timer.unref?.();
  }

  /** Sends what was noted so far (also on stop). */
  async flush(): Promise<void> {
    await this.#resolving;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const registryIds = [...this.#pending];
    this.#pending.clear();
    try {
      await this.#deps.bus.broadcast(Subjects.entriesInvalidated, { registryIds });
    } catch (err) {
      // A hint: gateways that miss it still drop tag lookups within their tag window.
      this.#deps.logger.warn({ err, registryIds }, 'could not tell the gateways about removed cache entries');
    }
  }
}
