import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type EntryServed, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';

/**
 * Counts cache hits per entry and publishes them as `entry.served` batches,
 * off the hot path: a hit costs a map update, never a round trip.
 */
export class ServedBatcher {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #maxKeys: number;
  #pending = new Map<string, { upstreamId: string; relativePath: string; size: number; count: number; downloadedAt: Date }>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(bus: EventBus, logger: Logger, options: { flushIntervalMs: number; maxKeys: number }) {
    this.#bus = bus;
    this.#log = logger;
    this.#maxKeys = options.maxKeys;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.#timer.unref();
  }

  record(upstreamId: string, relativePath: string, size: number, at = new Date()): void {
    const key = `${upstreamId}\u0000${relativePath}`;
    const current = this.#pending.get(key);
    if (current) {
      current.count += 1;
      current.downloadedAt = at;
    } else if (this.#pending.size < this.#maxKeys) {
      this.#pending.set(key, { upstreamId, relativePath, size, count: 1, downloadedAt: at });
    }
    if (this.#pending.size >= this.#maxKeys) void this.flush();
  }

  /** Publishes what was counted; counts that fail to publish are kept for the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, item] of batch) {
      const event: EntryServed = {
        eventId: randomUUID(),
        upstreamId: item.upstreamId,
        relativePath: item.relativePath,
        count: item.count,
        downloadedAt: item.downloadedAt.toISOString(),
        size: item.size,
      };
      try {
        await this.#bus.publish(Subjects.entryServed, event, { msgId: event.eventId });
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'publishing entry.served failed; keeping the counts');
        const again = this.#pending.get(key);
        if (again) again.count += item.count;
        else this.#pending.set(key, item);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
