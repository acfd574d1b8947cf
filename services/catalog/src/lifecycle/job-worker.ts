import type { Logger } from '@vreg/logging';
import type { Job, JobData, JobKind, JobProgress } from '../domain/job.ts';
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
  now?: () => Date;
}

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

  async #run(job: Job, handler: JobHandler): Promise<void> {
    const { jobs } = this.#deps;
    const reporter: JobReporter = {
      progress: async (progress) => void (await jobs.update(job.id, { progress })),
      error: async (message) => void (await jobs.update(job.id, { appendErrors: [message] })),
    };
    const log = this.#log.child({ jobId: job.id, kind: job.kind });
    try {
      const result = await handler(job, reporter);
      await jobs.update(job.id, { state: 'succeeded', result, finishedAt: this.#now() });
      log.info({ result }, 'job succeeded');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ err }, 'job failed');
      await jobs.update(job.id, { state: 'failed', appendErrors: [message], finishedAt: this.#now() });
    }
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}
