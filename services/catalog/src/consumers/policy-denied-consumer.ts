import type { EventBus, Subscription } from '@vreg/bus';
import { Consumers, PolicyDeniedSchema, Streams, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { PullPolicies } from '../domain/pull-policies.ts';

/**
 * Records the refusals gateways and fetchers report (`policy.denied`,
 * stream VREG_POLICY, durable `catalog-policy`). Idempotent: a redelivered
 * event has the same id and is stored once.
 */
export class PolicyDeniedConsumer {
  readonly #policies: PullPolicies;
  readonly #logger: Logger;

  constructor(deps: { policies: PullPolicies; logger: Logger }) {
    this.#policies = deps.policies;
    this.#logger = deps.logger.child({ component: 'policy-denied-consumer' });
  }

  start(bus: EventBus): Promise<Subscription> {
    return bus.consume(
      {
        stream: Streams.policy.name,
        consumer: Consumers.catalogPolicy,
        subject: Subjects.policyDenied,
        schema: PolicyDeniedSchema,
        concurrency: 4,
      },
      async ({ data }) => {
        await this.#policies.record(data);
        this.#logger.debug(
          { registryId: data.registryId, image: data.image, reason: data.reason, count: data.count },
          'policy refusal recorded',
        );
      },
    );
  }
}
