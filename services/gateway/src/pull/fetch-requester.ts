import { randomUUID } from 'node:crypto';
import { Subjects, fetchRequestedMsgId, type FetchRequested, type ObjectRef } from '@vreg/contracts';
import type { EventBus } from '@vreg/bus';
import type { Logger } from '@vreg/logging';

/**
 * Publishes `fetch.requested` on a miss, before the gateway starts its own
 * fill: if this gateway dies or the client leaves, the fetcher finishes the
 * job. A bus outage must not fail the pull, so errors are logged, not thrown.
 */
export class FetchRequester {
  readonly #bus: EventBus;
  readonly #log: Logger;

  constructor(bus: EventBus, logger: Logger) {
    this.#bus = bus;
    this.#log = logger;
  }

  async request(registryId: string, object: ObjectRef): Promise<void> {
    const event: FetchRequested = { eventId: randomUUID(), registryId, object, requestedAt: new Date().toISOString() };
    try {
      await this.#bus.publish(Subjects.fetchRequested, event, { msgId: fetchRequestedMsgId(registryId, object) });
    } catch (err) {
      this.#log.warn({ registryId, err: (err as Error).message }, 'publishing fetch.requested failed');
    }
  }
}
