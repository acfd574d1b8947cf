import type { Logger } from '@vreg/logging';
import type { Job, JobData, JobKind, JobPatch, JobProgress } from '../domain/job.ts';
import type { JobRepository } from '../ports/job-repository.ts';

/** What a handler tells the job while it runs. */
export interface JobReporter {
  progress(progress: Partial<JobProgress>): Promise<void>;
  error(message: string): Promise<void>;
}

/** Runs one claimed job to its end; resolves to the job's result, throws to fail it. */
export type JobHandler = (job: Job, reporter: JobReporter) => Promise<JobData>;

export interface JobWorkerDeps {
  jobs: JobRepository;
  /** The kinds this worker runs; other kinds stay queued for their own workers. */
  handlers: Partial<Record<JobKind, JobHandler>>;
  logger: Logger;
  /** Milliseconds between polls for queued jobs (another replica may have queued them). */
  pollIntervalMs: number;
  /**
   * A running job of these kinds whose record has not moved for this long
   * lost its worker (a catalog process killed mid-job) and is failed, so it
   * does not show `running` for ever. Workers touch their job well within
   * it. Default 15 min.
   */
  staleAfterMs?: number;
  now?: () => Date;
}

const DEFAULT_STALE_AFTER_MS = 15 * 60_000;
/** Running jobs one look for abandoned ones reads per kind. */
const STALE_SCAN = 100;

/**
 * Runs queued jobs of its kinds, one at a time. Each job is claimed
 * atomically (`JobRepository.claimQueued`), so with several catalog
 * replicas each job runs exactly once. `wake()` runs at once what this
 * process just queued instead of waiting for the next poll.
 */
export class JobWorker {
  readonly #deps: JobWorkerDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  /** Set by stop(); runQueued() (also when called directly) claims nothing more. */
  #stopping = false;
  #lastStaleScan = 0;

  constructor(deps: JobWorkerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'job-worker', kinds: Object.keys(deps.handlers) });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = false;
    if (this.#deps.pollIntervalMs > 0) {
      this.#timer = setInterval(() => this.wake(), this.#deps.pollIntervalMs);
      this.#timer.unref();
    }
    this.wake();
  }

  /** Stops polling and waits for the job in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  /** Looks for queued jobs now (no-op when stopped); a pass in progress looks again when it ends. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#pass !== undefined) {
      this.#again = true;
      return;
    }
    this.#pass = this.runQueued()
      .then(() => undefined)
      .catch((err: unknown) => this.#log.error({ err }, 'job pass failed'))
      .finally(() => {
        this.#pass = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Claims and runs queued jobs until none of its kinds is left; resolves to how many ran. */
  async runQueued(): Promise<number> {
    if (this.#now().getTime() - this.#lastStaleScan >= this.#staleAfterMs() / 3) await this.failAbandoned();
    let ran = 0;
    for (let claimed = true; claimed; ) {
      claimed = false;
      for (const [kind, handler] of Object.entries(this.#deps.handlers) as Array<[JobKind, JobHandler]>) {
        // A stopping worker finishes its job in progress but claims no more: another replica, or the next start, will.
        if (this.#stopping) return ran;
        const job = await this.#deps.jobs.claimQueued(kind, this.#now());
        if (job === undefined) continue;
        claimed = true;
        ran += 1;
        await this.#run(job, handler);
      }
    }
    return ran;
  }

  /** Fails running jobs of its kinds that no worker touched for `staleAfterMs`; resolves to how many. */
  async failAbandoned(): Promise<number> {
    const now = this.#now();
    this.#lastStaleScan = now.getTime();
    const staleMs = this.#staleAfterMs();
    let failed = 0;
    for (const kind of Object.keys(this.#deps.handlers) as JobKind[]) {
      const running = await this.#deps.jobs.list({ kind, state: 'running' }, { page: 1, perPage: STALE_SCAN });
      for (const job of running.items) {
        if (now.getTime() - job.updatedAt.getTime() < staleMs) continue;
        // Re-read: another replica may have failed it, or its worker touched it, meanwhile.
        const current = await this.#deps.jobs.get(job.id);
        if (current?.state !== 'running' || now.getTime() - current.updatedAt.getTime() < staleMs) continue;
        await this.#deps.jobs.update(job.id, {
          state: 'failed',
          appendErrors: [`abandoned: no progress for ${Math.round(staleMs / 1000)} s (its catalog process stopped?); run it again`],
          finishedAt: now,
        });
        this.#log.warn({ jobId: job.id, kind }, 'abandoned running job failed');
        failed += 1;
      }
    }
    return failed;
  }

  async #run(job: Job, handler: JobHandler): Promise<void> {
    // Every write of this job goes through one queue: stores update a job by
    // read-modify-write, so a heartbeat racing the final write could undo it.
    let queue: Promise<unknown> = Promise.resolve();
    const write = (patch: JobPatch): Promise<void> => {
      const next = queue.then(() => this.#deps.jobs.update(job.id, patch));
      queue = next.catch(() => undefined);
      return next.then(() => undefined);
    };
    // Keep the record moving while the handler works, so no replica takes the job for abandoned.
    const heartbeat = setInterval(
      () => {
        write({}).catch((err: unknown) => this.#log.warn({ err, jobId: job.id }, 'job heartbeat failed'));
      },
      Math.max(1000, this.#staleAfterMs() / 5),
    );
    heartbeat.unref();
    const reporter: JobReporter = {
      progress: (progress) => write({ progress }),
      error: (message) => write({ appendErrors: [message] }),
    };
    const log = this.#log.child({ jobId: job.id, kind: job.kind });
    try {
      const result = await handler(job, reporter);
      clearInterval(heartbeat);
      await write({ state: 'succeeded', result, finishedAt: this.#now() });
      log.info({ result }, 'job succeeded');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ err }, 'job failed');
      clearInterval(heartbeat);
      await write({ state: 'failed', appendErrors: [message], finishedAt: this.#now() });
    } finally {
      clearInterval(heartbeat);
    }
  }

  #staleAfterMs(): number {
    return this.#deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}
