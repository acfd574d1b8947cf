import type { Logger } from '@vreg/logging';
import type { PolicyDenialRetention } from '../domain/pull-policy.ts';
import type { PolicyDenialRepository } from '../ports/policy-denial-repository.ts';

/** What is kept when the config does not say: a month, and at most 100,000 records (a few tens of MB in any store). */
export const DEFAULT_DENIAL_RETENTION: PolicyDenialRetention = { maxAgeMs: 30 * 86_400_000, maxRecords: 100_000 };

/**
 * Keeps the refusal records bounded: at start and every `intervalMs`,
 * records past their age or past the newest `maxRecords` are deleted. Every
 * replica may prune; deleting what another already deleted is harmless.
 */
export class PolicyDenialPruner {
  readonly #denials: PolicyDenialRepository;
  readonly #logger: Logger;
  readonly #retention: PolicyDenialRetention;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(deps: { denials: PolicyDenialRepository; logger: Logger; retention?: PolicyDenialRetention; intervalMs?: number }) {
    this.#denials = deps.denials;
    this.#logger = deps.logger.child({ component: 'policy-denial-pruner' });
    this.#retention = deps.retention ?? DEFAULT_DENIAL_RETENTION;
    this.#intervalMs = deps.intervalMs ?? 600_000;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.prune();
    this.#timer = setInterval(() => void this.prune(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One pass; failures are logged and retried at the next. */
  prune(): Promise<void> {
    this.#running = this.#running.then(async () => {
      try {
        const removed = await this.#denials.prune(this.#retention, new Date());
        if (removed > 0) this.#logger.info({ removed }, 'old policy refusal records deleted');
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message }, 'pruning policy refusal records failed');
      }
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
