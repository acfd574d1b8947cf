import type { ConsumeSpec, Delivery, EventBus, Subscription } from '@vreg/bus';
import { Consumers, type EntryServed, EntryServedSchema, Streams, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { eventTime } from './event-time.ts';

export interface EntryServedConsumerDeps {
  store: CatalogStore;
  logger: Logger;
}

/**
 * Adds cache hits to download counts: consumes `entry.served` (stream
 * `VREG_SERVED`, durable `catalog-served`). Each event is already a batch
 * (the gateway sums hits per entry before publishing); the consumer adds
 * `count` with `$inc` and moves `downloadedAt` forward with `$max`.
 *
 * Concurrency 1: FerretDB applies `$inc` as read-modify-write, so two
 * concurrent updates of one entry could lose hits. Counts are
 * at-least-once: a redelivery after a crash between the write and the ack
 * counts that batch twice, which statistics can afford.
 */
export class EntryServedConsumer {
  readonly spec: ConsumeSpec<EntryServed>;
  readonly #store: CatalogStore;
  readonly #logger: Logger;

  constructor(deps: EntryServedConsumerDeps) {
    this.#store = deps.store;
    this.#logger = deps.logger.child({ component: 'entry-served-consumer' });
    this.spec = {
      stream: Streams.served.name,
      consumer: Consumers.catalogServed,
      subject: Subjects.entryServed,
      schema: EntryServedSchema,
      concurrency: 1,
    };
  }

  /** Starts consuming; stop the returned subscription to stop. */
  start(bus: EventBus): Promise<Subscription> {
    return bus.consume(this.spec, async (delivery) => {
      await this.handle(delivery);
    });
  }

  /** Handles one delivery; resolves true when the entry existed. */
  readonly handle = async (delivery: Delivery<EntryServed>): Promise<boolean> => {
    const event = delivery.data;
    const downloadedAt = eventTime(event.downloadedAt, 'downloadedAt');
    const recorded = await this.#store.cacheEntries.recordDownloads(event.upstreamId, event.relativePath, event.count, downloadedAt);
    if (!recorded) {
      // Deleted meanwhile (upstream removed, cleanup): nothing to count.
      this.#logger.debug(
        { eventId: event.eventId, upstreamId: event.upstreamId, relativePath: event.relativePath },
        'served entry unknown, hits dropped',
      );
    }
    return recorded;
  };
}
