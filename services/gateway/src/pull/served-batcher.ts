import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type EntryServed, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { CountedBatch } from '../adapters/bus/counted-batch.ts';

interface Served {
  upstreamId: string;
  relativePath: string;
  size: number;
  count: number;
  downloadedAt: Date;
}

/**
 * Counts cache hits per entry and publishes them as `entry.served` batches,
 * off the hot path: a hit costs a map update, never a round trip.
 */
export class ServedBatcher {
  readonly #batch: CountedBatch<Served>;

  constructor(bus: EventBus, logger: Logger, options: { flushIntervalMs: number; maxKeys: number }) {
    this.#batch = new CountedBatch<Served>({
      ...options,
      what: 'entry.served',
      logger,
      publish: async (item) => {
        const event: EntryServed = { eventId: randomUUID(), ...item, downloadedAt: item.downloadedAt.toISOString() };
        await bus.publish(Subjects.entryServed, event, { msgId: event.eventId });
      },
      merge: (into, from) => {
        into.count += from.count;
        if (from.downloadedAt > into.downloadedAt) into.downloadedAt = from.downloadedAt;
      },
    });
  }

  record(upstreamId: string, relativePath: string, size: number, at = new Date()): void {
    this.#batch.record(`${upstreamId}\u0000${relativePath}`, { upstreamId, relativePath, size, count: 1, downloadedAt: at });
  }

  /** Publishes what was counted; counts that fail to publish are kept for the next flush. */
  flush(): Promise<void> {
    return this.#batch.flush();
  }

  stop(): Promise<void> {
    return this.#batch.stop();
  }
}
