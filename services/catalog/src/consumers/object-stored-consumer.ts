import type { BlobStore } from '@vreg/blob-store';
import { type ConsumeSpec, type Delivery, type EventBus, RetryLater, type Subscription } from '@vreg/bus';
import { Consumers, ErrorCodes, type ObjectStored, ObjectStoredSchema, Streams, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { CacheEntryWrite, UpsertOutcome } from '../domain/cache-entry.ts';
import { objectRefOfPath } from '../domain/object-ref-of-path.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { RefillRequester } from '../ports/refill-requester.ts';
import { eventTime } from './event-time.ts';

/** What handling one event did: the upsert's outcome, `dropped`, or `refill_requested` (GC deleted the object: not recorded, fetched again). */
export type ObjectStoredOutcome = UpsertOutcome | 'dropped' | 'refill_requested';

/** Thrown while a GC sweep is deleting the event's object: decided on redelivery, once the sweep is done. */
export class GcInProgressError extends RetryLater {
  constructor(message: string) {
    super(ErrorCodes.gcInProgress, message);
  }
}

export interface ObjectStoredConsumerDeps {
  store: CatalogStore;
  /** Where objects live: checked when GC deleted the digest around this fill. */
  blobs: Pick<BlobStore, 'stat'>;
  /** Asks for an object to be fetched again when GC deleted it under this fill. */
  refills: RefillRequester;
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
 *
 * Against GC it runs its half of the protocol in gc/gc-sweep.ts (step 3):
 * look at the digest's GC candidate, record, look again; an entry whose
 * object a sweep deleted meanwhile is never left recorded.
 */
export class ObjectStoredConsumer {
  readonly spec: ConsumeSpec<ObjectStored>;
  readonly #store: CatalogStore;
  readonly #blobs: Pick<BlobStore, 'stat'>;
  readonly #refills: RefillRequester;
  readonly #logger: Logger;

  constructor(deps: ObjectStoredConsumerDeps) {
    this.#store = deps.store;
    this.#blobs = deps.blobs;
    this.#refills = deps.refills;
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

  /** Handles one delivery; resolves with what it did. */
  readonly handle = async (delivery: Delivery<ObjectStored>): Promise<ObjectStoredOutcome> => {
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
      this.#logger.warn(
        { ...fields, eventRegistryId: event.registryId, registryId: upstream.registryId },
        'object stored event names another registry than its upstream',
      );
    }
    const write: CacheEntryWrite = {
      upstreamId: upstream.id,
      registryId: upstream.registryId,
      relativePath: event.relativePath,
      digest: event.digest,
      contentType: event.contentType,
      size: event.size,
      ...(event.upstreamEtag === undefined ? {} : { upstreamEtag: event.upstreamEtag }),
      upstreamCheckedAt,
    };
    const gc = this.#store.gcCandidates;

    // GC protocol 3a: a sweep is deleting this digest, or did.
    const before = await gc.get(event.digest);
    if (before?.state === 'deleting') throw new GcInProgressError(`gc is deleting ${event.digest}`);
    if (before?.state === 'deleted' && (await this.#blobs.stat(event.digest)) === undefined) {
      // An earlier delivery of this event may have recorded it before its process died: take that back too.
      await gc.retractEntry(entryFacts(write));
      return this.#refill(event, upstream.registryId, fields);
    }

    // 3b.
    const outcome = await this.#store.cacheEntries.upsert(write);
    if (outcome === 'inserted' && (await this.#store.upstreams.get(upstream.id)) === undefined) {
      // The upstream was deleted between our check and our insert, after its
      // cascade already ran: finish the cascade so no orphan stays behind.
      await this.#store.cacheEntries.deleteByUpstream(upstream.id);
      this.#logger.info(fields, 'object stored for an upstream deleted meanwhile dropped');
      return 'dropped';
    }

    // 3c: our entry is visible now; look again, a sweep may have claimed in between.
    const after = await gc.get(event.digest);
    if (after?.state === 'pending') {
      await gc.dropPending(event.digest);
    } else if (
      after !== undefined &&
      !(after.state === 'deleted' && before?.state === 'deleted' && sameTime(after.deletedAt, before.deletedAt))
    ) {
      // Claimed (or deleted) after our first look: the sweep may not have seen
      // our entry. Take it back (only if it is still ours) and decide on
      // redelivery, in 3a, once the sweep is done.
      // Also when our upsert was ignored: a row with exactly our facts is this
      // event's (an earlier delivery, a duplicate), and the redelivery records it again.
      await gc.retractEntry(entryFacts(write));
      this.#logger.info(
        { ...fields, digest: event.digest, state: after.state },
        'object stored raced a gc sweep: entry taken back, retrying',
      );
      throw new GcInProgressError(`gc claimed ${event.digest} while its fill was being recorded`);
    }
    this.#logger.debug({ ...fields, outcome }, 'cache entry upserted');
    return outcome;
  };

  /** The object is gone (GC): record nothing, have it fetched again; the fetcher's fill brings a new event. */
  async #refill(event: ObjectStored, registryId: string, fields: Record<string, string>): Promise<'refill_requested' | 'dropped'> {
    const object = objectRefOfPath(event.relativePath);
    if (object === undefined) {
      this.#logger.warn(fields, 'object stored for a deleted object under an unreadable path dropped');
      return 'dropped';
    }
    await this.#refills.request(registryId, object, event.eventId);
    this.#logger.info({ ...fields, digest: event.digest }, 'object deleted by gc before its fill was recorded: fetch requested again');
    return 'refill_requested';
  }
}

function entryFacts(write: CacheEntryWrite): { upstreamId: string; relativePath: string; digest: string; upstreamCheckedAt: Date } {
  return {
    upstreamId: write.upstreamId,
    relativePath: write.relativePath,
    digest: write.digest,
    upstreamCheckedAt: write.upstreamCheckedAt,
  };
}

function sameTime(a: Date | undefined, b: Date | undefined): boolean {
  return a !== undefined && b !== undefined && a.getTime() === b.getTime();
}
