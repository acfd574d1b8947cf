import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type FetchRequested, type ObjectRef, Subjects } from '@vreg/contracts';
import type { RefillRequester } from '../../ports/refill-requester.ts';

/**
 * Publishes `fetch.requested` as the gateway does on a miss, so the
 * fetcher fills the object again and publishes `object.stored` anew. Its
 * dedup id is its own (`refill:<key>`), not the gateway's
 * `fetch:<registry>:<path>`: the gateway's request for the same object may
 * still be inside the stream's dedup window, and this one must not be dropped.
 */
export class BusRefillRequester implements RefillRequester {
  readonly #bus: EventBus;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  async request(registryId: string, object: ObjectRef, dedupKey: string): Promise<void> {
    const event: FetchRequested = { eventId: randomUUID(), registryId, object, requestedAt: new Date().toISOString() };
    await this.#bus.publish(Subjects.fetchRequested, event, { msgId: `refill:${dedupKey}` });
  }
}
