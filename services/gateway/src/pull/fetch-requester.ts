import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type FetchRequested, fetchRequestedMsgId, type ObjectRef, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';

export interface FetchRequesterOptions {
  /** How long a failed publish is retried in the background, ms. Default 10 minutes. */
  retryForMs?: number;
  /** First pause between retries, ms, doubled each time up to 30 s. Default 500. */
  firstRetryMs?: number;
  /** Distinct requests retried at once at most; past it a failed publish is only logged. Default 10 000. */
  maxPendingRetries?: number;
}

/**
 * Publishes `fetch.requested` on a miss, before the gateway starts its own
 * fill: if this gateway dies or the client leaves, the fetcher finishes the
 * job. A bus outage must not fail the pull, so a failed publish is retried
 * in the background until NATS is back (the message id makes a repeat land
 * once): otherwise a fill that completes during the outage, whose
 * `object.stored` cannot be published either, would be stored but never
 * recorded.
 */
export class FetchRequester {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #retryForMs: number;
  readonly #firstRetryMs: number;
  readonly #maxPendingRetries: number;
  /**
   * Message ids being retried: during an outage every miss of the same
   * object fails its publish, and one retry loop per id is enough (the
   * msgId dedups anyway); the cap bounds memory under a flood of misses.
   */
  readonly #retrying = new Set<string>();

  constructor(bus: EventBus, logger: Logger, options: FetchRequesterOptions = {}) {
    this.#bus = bus;
    this.#log = logger;
    this.#retryForMs = options.retryForMs ?? 10 * 60_000;
    this.#firstRetryMs = options.firstRetryMs ?? 500;
    this.#maxPendingRetries = options.maxPendingRetries ?? 10_000;
  }

  /** Requests waiting for the bus to come back (one per object and registry). */
  get pendingRetries(): number {
    return this.#retrying.size;
  }

  async request(registryId: string, object: ObjectRef): Promise<void> {
    const event: FetchRequested = { eventId: randomUUID(), registryId, object, requestedAt: new Date().toISOString() };
    const msgId = fetchRequestedMsgId(registryId, object);
    try {
      await this.#bus.publish(Subjects.fetchRequested, event, { msgId });
    } catch (err) {
      if (this.#retrying.has(msgId)) return;
      if (this.#retrying.size >= this.#maxPendingRetries) {
        this.#log.warn(
          { registryId, msgId, err: (err as Error).message, pending: this.#retrying.size },
          'publishing fetch.requested failed: too many retries pending, not retried',
        );
        return;
      }
      this.#log.warn({ registryId, msgId, err: (err as Error).message }, 'publishing fetch.requested failed: retrying in the background');
      this.#retrying.add(msgId);
      void this.#retry(event, msgId).finally(() => this.#retrying.delete(msgId));
    }
  }

  async #retry(event: FetchRequested, msgId: string): Promise<void> {
    const deadline = Date.now() + this.#retryForMs;
    for (let pause = this.#firstRetryMs; Date.now() < deadline; pause = Math.min(pause * 2, 30_000)) {
      // unref: a pending retry never keeps a stopping process alive.
      await new Promise((r) => setTimeout(r, pause).unref());
      try {
        await this.#bus.publish(Subjects.fetchRequested, event, { msgId });
        this.#log.info({ registryId: event.registryId, msgId }, 'fetch.requested published after a retry');
        return;
      } catch {
        // Still down: try again after a longer pause.
      }
    }
    this.#log.error({ registryId: event.registryId, msgId }, 'fetch.requested never published: the next request for the object records it');
  }
}
