import type { Logger } from '@vreg/logging';
import type { Job, JobState } from '../domain/job.ts';
import type { JobRepository } from '../ports/job-repository.ts';

/** When a warm job counts as abandoned, ms. */
export interface WarmWatchdogSettings {
  /**
   * A `running` warm with no `warm.progress` snapshot for this long lost its
   * fetcher. Fetchers report at least every VREG_WARM_HEARTBEAT_MS; after a
   * fetcher crash the command comes back after the warm consumer's ack wait
   * (max(30 s, VREG_FILL_LEASE_TTL_MS)) and the new attempt reports at once,
   * so this must exceed heartbeat + ack wait, with room for a busy fetcher.
   */
  abandonMs: number;
  /** A `queued` warm no fetcher started for this long: no fetcher runs, or the command was dead-lettered unread. */
  queuedAbandonMs: number;
}

export interface WarmJobWatchdogDeps {
  jobs: JobRepository;
  logger: Logger;
  settings: WarmWatchdogSettings;
  now?: () => Date;
}

/** Jobs one page of a sweep reads. */
const PAGE = 100;
/** Longest time between two sweeps, ms: the deadline is met within this much. */
const MAX_SWEEP_EVERY_MS = 15_000;

/**
 * Fails warm jobs no fetcher reports on any more. A warm is driven by the
 * fetcher's `warm.progress` snapshots, not by a catalog worker, so the job
 * worker's rule (15 min without a touch) does not apply: the fetcher sends a
 * heartbeat snapshot while it works, and each snapshot touches the job, so a
 * job whose `updatedAt` stops moving lost its fetcher (killed on the last
 * delivery, or the command dead-lettered). Every catalog replica sweeps; the
 * write is conditional on the job being as read, so one replica fails it,
 * once, and a snapshot landing meanwhile keeps it alive. A snapshot arriving
 * after the failure is dropped (the consumer ignores ended jobs).
 */
export class WarmJobWatchdog {
  readonly #deps: WarmJobWatchdogDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;
  /** When start() ran, ms: a job is silent at most since then (see start()). */
  #startedAt = 0;

  constructor(deps: WarmJobWatchdogDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'warm-job-watchdog' });
  }

  /**
   * Sweeps every quarter of the shorter deadline (at most every 15 s). A
   * job counts as silent only since this start at the earliest: snapshots
   * sent while this catalog was down wait in the stream, and the consumer
   * must get a full deadline to apply them before a job is judged.
   */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#startedAt = this.#now().getTime();
    const { abandonMs, queuedAbandonMs } = this.#deps.settings;
    const every = Math.max(100, Math.min(MAX_SWEEP_EVERY_MS, Math.floor(Math.min(abandonMs, queuedAbandonMs) / 4)));
    this.#timer = setInterval(() => {
      if (this.#sweeping !== undefined) return;
      this.#sweeping = this.sweep()
        .catch((err: unknown) => this.#log.warn({ err }, 'abandoned warm sweep failed'))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** Fails every warm job past its deadline; resolves to how many this call failed. */
  async sweep(): Promise<number> {
    const { abandonMs, queuedAbandonMs } = this.#deps.settings;
    return (
      (await this.#failStale(
        'running',
        abandonMs,
        (s) => `abandoned: no progress report from any fetcher for ${s} s; run the warm again`,
      )) +
      (await this.#failStale(
        'queued',
        queuedAbandonMs,
        (s) => `abandoned: no fetcher started this warm within ${s} s (none running, or the command was given up); run the warm again`,
      ))
    );
  }

  async #failStale(state: JobState, afterMs: number, reason: (s: number) => string): Promise<number> {
    const now = this.#now();
    const stale: Job[] = [];
    for (let page = 1; ; page += 1) {
      const { items } = await this.#deps.jobs.list({ kind: 'warm', state }, { page, perPage: PAGE });
      stale.push(...items.filter((j) => now.getTime() - Math.max(j.updatedAt.getTime(), this.#startedAt) >= afterMs));
      if (items.length < PAGE) break;
    }
    let failed = 0;
    for (const job of stale) {
      // Only if nothing touched the job since we read it: another replica or a late snapshot wins.
      const ended = await this.#deps.jobs.updateIfUnchanged(job.id, job, {
        state: 'failed',
        appendErrors: [reason(seconds(afterMs))],
        finishedAt: now,
      });
      if (ended === undefined) continue;
      failed += 1;
      this.#log.warn(
        { jobId: job.id, registryId: job.registryId, state, silentForMs: now.getTime() - job.updatedAt.getTime() },
        'abandoned warm job failed',
      );
    }
    return failed;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}

/** Whole seconds, or tenths below 10 s (short test deadlines). */
function seconds(ms: number): number {
  return ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10;
}
