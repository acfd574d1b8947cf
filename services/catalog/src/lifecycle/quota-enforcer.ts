import type { Logger } from '@vreg/logging';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { activityPagesOf } from './entry-batches.ts';
import type { MarkOutcome } from './entry-marker.ts';

export interface QuotaEnforcerDeps {
  store: Pick<CatalogStore, 'registries' | 'cacheEntries'>;
  logger: Logger;
  /** Milliseconds between sweeps of every registry with a quota; 0 = no periodic sweep. */
  sweepIntervalMs: number;
  /** Milliseconds `notifyStored` waits to gather a burst of stored objects into one check. Default 1000. */
  debounceMs?: number;
  /** Entries read per query while evicting (default `SWEEP_BATCH`). */
  batchSize?: number;
}

/** Registries read per page while sweeping. */
const SWEEP_PAGE = 100;

/**
 * Keeps registries under `max_stored_bytes`: when a registry's live
 * entries use more (see `RegistryUsageReader`), its least recently
 * downloaded entries are marked `pending_destruction` until usage is at or
 * under the quota. Runs after stored objects (`notifyStored`, debounced)
 * and periodically over every registry with a quota. Replicas racing on
 * one registry mark the same entries in the same order, and marking is
 * idempotent.
 */
export class QuotaEnforcer {
  readonly #deps: QuotaEnforcerDeps;
  readonly #log: Logger;
  readonly #pending = new Set<string>();
  /** One enforcement at a time per registry in this process. */
  readonly #running = new Map<string, Promise<MarkOutcome>>();
  #debounce: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweep: Promise<unknown> | undefined;
  #stopped = true;

  constructor(deps: QuotaEnforcerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'quota-enforcer' });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#deps.sweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => {
        this.#sweep ??= this.sweep()
          .catch((err: unknown) => this.#log.error({ err }, 'quota sweep failed'))
          .finally(() => (this.#sweep = undefined));
      }, this.#deps.sweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#sweepTimer = undefined;
    this.#debounce = undefined;
    this.#pending.clear();
    await Promise.allSettled([this.#sweep, ...this.#running.values()]);
  }

  /** An object was stored for the registry: check its quota soon (bursts are gathered). No-op when stopped. */
  notifyStored(registryId: string): void {
    if (this.#stopped) return;
    this.#pending.add(registryId);
    this.#debounce ??= setTimeout(() => {
      this.#debounce = undefined;
      const ids = [...this.#pending];
      this.#pending.clear();
      for (const id of ids) this.enforce(id).catch((err: unknown) => this.#log.error({ err, registryId: id }, 'quota enforcement failed'));
    }, this.#deps.debounceMs ?? 1000);
    this.#debounce.unref();
  }

  /** Checks every registry with a quota; resolves to what was marked in total. */
  async sweep(): Promise<MarkOutcome> {
    const total: MarkOutcome = { entries: 0, bytes: 0 };
    for (let page = 1; ; page += 1) {
      const registries = await this.#deps.store.registries.list({ page, perPage: SWEEP_PAGE });
      for (const registry of registries.items) {
        if (registry.maxStoredBytes === undefined) continue;
        const outcome = await this.enforce(registry.id);
        total.entries += outcome.entries;
        total.bytes += outcome.bytes;
      }
      if (page * SWEEP_PAGE >= registries.total) return total;
    }
  }

  /** Brings the registry under its quota now; resolves to what was marked (nothing without a quota). */
  enforce(registryId: string): Promise<MarkOutcome> {
    const current = this.#running.get(registryId);
    if (current !== undefined) return current;
    const run = this.#enforce(registryId).finally(() => this.#running.delete(registryId));
    this.#running.set(registryId, run);
    return run;
  }

  async #enforce(registryId: string): Promise<MarkOutcome> {
    const outcome: MarkOutcome = { entries: 0, bytes: 0 };
    const quota = (await this.#deps.store.registries.get(registryId))?.maxStoredBytes;
    if (quota === undefined) return outcome;
    const entries = this.#deps.store.cacheEntries;
    let used = (await entries.liveUsageByUpstream(registryId)).reduce((sum, u) => sum + u.storedBytes, 0);
    if (used <= quota) return outcome;

    // Least recently active first, a batch at a time (never the whole registry in memory); a
    // digest's bytes are freed when the upstream has no live entry of it left.
    const batches = activityPagesOf(entries, registryId, this.#deps.batchSize === undefined ? {} : { batchSize: this.#deps.batchSize });
    sweep: for await (const batch of batches) {
      for (const entry of batch) {
        if (used <= quota) break sweep;
        if (!(await entries.markPendingDestruction(entry.upstreamId, entry.relativePath))) continue;
        outcome.entries += 1;
        outcome.bytes += entry.size;
        if (!(await entries.hasLiveDigest(entry.upstreamId, entry.digest))) used -= entry.size;
      }
    }
    this.#log.info(
      { registryId, quota, usedAfter: used, marked: outcome.entries, markedBytes: outcome.bytes },
      'registry over quota: least recently downloaded entries marked for destruction',
    );
    return outcome;
  }
}
