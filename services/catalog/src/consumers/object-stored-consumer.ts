import type { ConsumeSpec, Delivery, EventBus, Subscription } from '@vreg/bus';
import { Consumers, ObjectStoredSchema, Streams, Subjects, type ObjectStored } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { UpsertOutcome } from '../domain/cache-entry.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { eventTime } from './event-time.ts';

export interface ObjectStoredConsumerDeps {
  store: CatalogStore;
  logger: Logger;
  /** Events handled at once by this process. Default 4. */
  concurrency?: number;
}

/**
 * Records each stored object as a cache entry: consumes `object.stored`
 * (stream `VREG_OBJECTS`, durable `catalog-objects`, competing across
 * catalog replicas) and upserts by (upstream, relative path). The upsert is
 * idempotent and a newer `upstreamCheckedAt` wins, so redelivery and
 * out-of-order delivery are harmless.
 *
 * Store failures throw, so the bus naks and retries with backoff; an event
 * for an upstream deleted meanwhile is acked and dropped.
 */
export class ObjectStoredConsumer {
  readonly spec: ConsumeSpec<ObjectStored>;
  readonly #store: CatalogStore;
  readonly #logger: Logger;

  constructor(deps: ObjectStoredConsumerDeps) {
    this.#store = deps.store;
    this.#logger = deps.logger.child({ component: 'object-stored-consumer' });
    this.spec = {
      stream: Streams.objects.name,
      consumer: Consumers.catalogObjects,
      subject: Subjects.objectStored,
      schema: ObjectStoredSchema,
      concurrency: deps.concurrency ?? 4,
    };
  }

  /** Starts consuming; stop the returned subscription to stop. */
  start(bus: EventBus): Promise<Subscription> {
    return bus.consume(this.spec, async (delivery) => {
      await this.handle(delivery);
    });
  }

  /** Handles one delivery; resolves with what the upsert did, or `dropped`. */
  readonly handle = async (delivery: Delivery<ObjectStored>): Promise<UpsertOutcome | 'dropped'> => {
    const event = delivery.data;
    const upstreamCheckedAt = eventTime(event.upstreamCheckedAt, 'upstreamCheckedAt');
    const fields = { eventId: event.eventId, upstreamId: event.upstreamId, relativePath: event.relativePath };
    const upstream = await this.#store.upstreams.get(event.upstreamId);
    if (upstream === undefined) {
      this.#logger.info(fields, 'object stored for an unknown upstream dropped');
      return 'dropped';
    }
    if (upstream.registryId !== event.registryId) {
      // The entry belongs to the upstream; its registry is the truth.
      this.#logger.warn({ ...fields, eventRegistryId: event.registryId, registryId: upstream.registryId }, 'object stored event names another registry than its upstream');
    }
    const outcome = await this.#store.cacheEntries.upsert({
      upstreamId: upstream.id,
      registryId: upstream.registryId,
      relativePath: event.relativePath,
      digest: event.digest,
      contentType: event.contentType,
      size: event.size,
      ...(event.upstreamEtag === undefined ? {} : { upstreamEtag: event.upstreamEtag }),
      upstreamCheckedAt,
    });
    if (outcome === 'inserted' && (await this.#store.upstreams.get(upstream.id)) === undefined) {
      // The upstream was deleted between our check and our insert, after its
      // cascade already ran: finish the cascade so no orphan stays behind.
      await this.#store.cacheEntries.deleteByUpstream(upstream.id);
      this.#logger.info(fields, 'object stored for an upstream deleted meanwhile dropped');
      return 'dropped';
    }
    this.#logger.debug({ ...fields, outcome }, 'cache entry upserted');
    return outcome;
  };
}
