import type { Logger } from '@vreg/logging';
import type { Job } from '../domain/job.ts';
import type { CleanupPolicyRepository } from '../ports/cleanup-policy-repository.ts';
import type { CleanupPolicies } from './cleanup-policies.ts';

export interface CleanupSchedulerDeps {
  policies: Pick<CleanupPolicyRepository, 'claimDue'>;
  cleanup: Pick<CleanupPolicies, 'queue'>;
  logger: Logger;
  /** Milliseconds between looks for due policies; 0 = never (runs only on POST .../run). */
  intervalMs: number;
  now?: () => Date;
}

/**
 * Queues a cleanup job for every enabled policy whose `next_run_at` has
 * come. Claiming moves `next_run_at` a cadence ahead atomically, so with
 * several catalog replicas each due run is queued once.
 */
export class CleanupScheduler {
  readonly #deps: CleanupSchedulerDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<unknown> | undefined;

  constructor(deps: CleanupSchedulerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'cleanup-scheduler' });
  }

  start(): void {
    if (this.#timer !== undefined || this.#deps.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.#tick ??= this.tick()
        .catch((err: unknown) => this.#log.error({ err }, 'cleanup scheduling failed'))
        .finally(() => (this.#tick = undefined));
    }, this.#deps.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tick;
  }

  /** Claims the due policies and queues their jobs; resolves to the jobs queued. */
  async tick(): Promise<Job[]> {
    const due = await this.#deps.policies.claimDue(this.#deps.now?.() ?? new Date());
    const jobs: Job[] = [];
    for (const policy of due) {
      jobs.push(await this.#deps.cleanup.queue(policy.registryId, 'schedule'));
      this.#log.info({ registryId: policy.registryId, nextRunAt: policy.nextRunAt.toISOString() }, 'cleanup run queued');
    }
    return jobs;
  }
}
