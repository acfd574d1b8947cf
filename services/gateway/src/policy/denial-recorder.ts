import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { type PolicyDenied, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { VregMetrics } from '@vreg/telemetry';
import { CountedBatch } from '../adapters/bus/counted-batch.ts';

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
  readonly #log: Logger;
  readonly #metrics: VregMetrics;
  readonly #batch: CountedBatch<PolicyDenied>;

  constructor(bus: EventBus, logger: Logger, metrics: VregMetrics, options: DenialRecorderOptions) {
    this.#log = logger;
    this.#metrics = metrics;
    this.#batch = new CountedBatch<PolicyDenied>({
      ...options,
      what: 'policy.denied',
      logger,
      publish: (event) => bus.publish(Subjects.policyDenied, event, { msgId: event.eventId }),
      // The first refusal's id and time stand for the batch; later ones add to its count.
      merge: (into, from) => {
        into.count += from.count;
      },
    });
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
    // A rule listing many long tag patterns makes a long message: the event's schema keeps 1000 characters.
    this.#batch.record(key, { ...denial, message: denial.message.slice(0, 1000), eventId: randomUUID(), count: 1, at: at.toISOString() });
  }

  /** Publishes what was gathered; what fails to publish is kept for the next flush. */
  flush(): Promise<void> {
    return this.#batch.flush();
  }

  stop(): Promise<void> {
    return this.#batch.stop();
  }
}
