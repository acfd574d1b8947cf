import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type PolicyDenied, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { VregMetrics } from '@vreg/telemetry';

/** A refusal as the gate sees it; the recorder adds the id, count and time. */
export type Denial = Omit<PolicyDenied, 'eventId' | 'count' | 'at'>;

export interface DenialRecorderOptions {
  /** How often gathered refusals are published, ms. */
  flushIntervalMs: number;
  /** Distinct refusals gathered at most between two flushes; past it, a flush starts at once. */
  maxKeys: number;
}

/**
 * Counts every refusal (and audit-mode "would refuse") in `/metrics` at
 * once, and publishes them as `policy.denied` events for the catalog to
 * record. Identical refusals within one flush interval (a client retrying,
 * a cluster of nodes pulling the same refused image) go out as one event
 * with their count, so a refused image cannot flood the bus or the catalog.
 */
export class DenialRecorder {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #metrics: VregMetrics;
  readonly #options: DenialRecorderOptions;
  #pending = new Map<string, PolicyDenied>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(bus: EventBus, logger: Logger, metrics: VregMetrics, options: DenialRecorderOptions) {
    this.#bus = bus;
    this.#log = logger;
    this.#metrics = metrics;
    this.#options = options;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.#timer.unref();
  }

  record(denial: Denial, at = new Date()): void {
    this.#metrics.policyDenial(denial.registryId, denial.mode, denial.reason);
    this.#log.info(
      {
        registryId: denial.registryId,
        image: denial.image,
        reference: denial.reference,
        mode: denial.mode,
        reason: denial.reason,
        client: denial.client,
      },
      denial.mode === 'enforce' ? 'pull refused by policy' : 'pull would be refused by policy (audit)',
    );
    const key = JSON.stringify([
      denial.registryId,
      denial.image,
      denial.reference,
      denial.kind,
      denial.digest,
      denial.mode,
      denial.reason,
      denial.rule?.index,
      denial.client,
    ]);
    const current = this.#pending.get(key);
    if (current !== undefined) {
      current.count += 1;
      return;
    }
    // A rule listing many long tag patterns makes a long message: the event's schema keeps 1000 characters.
    this.#pending.set(key, { ...denial, message: denial.message.slice(0, 1000), eventId: randomUUID(), count: 1, at: at.toISOString() });
    if (this.#pending.size >= this.#options.maxKeys) void this.flush();
  }

  /** Publishes what was gathered; what fails to publish is kept for the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, event] of batch) {
      try {
        await this.#bus.publish(Subjects.policyDenied, event, { msgId: event.eventId });
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'publishing policy.denied failed; keeping the record');
        if (!this.#pending.has(key) && this.#pending.size < this.#options.maxKeys) this.#pending.set(key, event);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
