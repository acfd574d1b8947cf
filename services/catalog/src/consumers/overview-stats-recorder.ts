import type { EventBus, Subscription } from '@vreg/bus';
import { Subjects, UpstreamFailedSchema } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { OverviewStats } from '../domain/overview-stats.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { EntryServedConsumer } from './entry-served-consumer.ts';
import { eventTime } from './event-time.ts';
import type { ObjectStoredConsumer } from './object-stored-consumer.ts';

/**
 * Feeds the console's overview from the two catalog consumers without
 * changing them: each consumer is started with its own spec and handler,
 * and a handled event is then counted (a dropped one is not). Counting
 * never fails a delivery: a stats error is logged and the event still acks.
 */
export class OverviewStatsRecorder {
  readonly #stats: OverviewStats;
  readonly #store: CatalogStore;
  readonly #logger: Logger;

  constructor(deps: { stats: OverviewStats; store: CatalogStore; logger: Logger }) {
    this.#stats = deps.stats;
    this.#store = deps.store;
    this.#logger = deps.logger.child({ component: 'overview-stats' });
  }

  /** Starts `consumer`, counting each object it stored as a miss with the bytes fetched upstream. */
  startObjectStored(bus: EventBus, consumer: ObjectStoredConsumer): Promise<Subscription> {
    return bus.consume(consumer.spec, async (delivery) => {
      const outcome = await consumer.handle(delivery);
      if (outcome === 'dropped') return;
      const e = delivery.data;
      this.#count(() =>
        this.#stats.stored({
          upstreamId: e.upstreamId,
          relativePath: e.relativePath,
          digest: e.digest,
          size: e.size,
          at: eventTime(e.storedAt, 'storedAt'),
        }),
      );
    });
  }

  /** Starts `consumer`, counting each batch of hits times the entry's size as the bytes served from the cache. */
  startEntryServed(bus: EventBus, consumer: EntryServedConsumer): Promise<Subscription> {
    return bus.consume(consumer.spec, async (delivery) => {
      if (!(await consumer.handle(delivery))) return;
      const e = delivery.data;
      // Gateways send the size; only events of older gateways need the entry read.
      const size = e.size ?? (await this.#store.cacheEntries.findFirst([e.upstreamId], e.relativePath).catch(() => undefined))?.size ?? 0;
      this.#count(() =>
        this.#stats.served({ relativePath: e.relativePath, count: e.count, size, at: eventTime(e.downloadedAt, 'downloadedAt') }),
      );
    });
  }

  /**
   * Listens to the gateways' and fetchers' upstream failure broadcasts (both
   * modes: NATS when distributed, the in-process bus when embedded). A
   * malformed one is dropped by the bus.
   */
  listenUpstreamFailed(bus: EventBus): Promise<Subscription> {
    return bus.listen(Subjects.upstreamFailed, UpstreamFailedSchema, (m) => {
      this.#count(() => this.#stats.upstreamFailed({ upstream: m.upstream, message: m.message || m.code, count: m.count }));
    });
  }

  #count(record: () => void): void {
    try {
      record();
    } catch (err) {
      this.#logger.warn({ err }, 'overview stats not recorded');
    }
  }
}
