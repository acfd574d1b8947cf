import type { BlobStore } from '@vreg/blob-store';
import type { Logger } from '@vreg/logging';
import type { Job, JobData } from '../domain/job.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { EntryDestructionWorker, type DestructionReport } from './entry-destruction-worker.ts';
import { GcSweep, type GcReport, type GcSweepStep } from './gc-sweep.ts';

export interface GcRunnerDeps {
  store: CatalogStore;
  blobs: Pick<BlobStore, 'delete'>;
  logger: Logger;
  /** Milliseconds a GC candidate waits before its object may be deleted (VREG_GC_GRACE_MS). */
  graceMs: number;
  /** Milliseconds between destruction passes, which also pick up queued gc jobs. 0 = never on a timer. */
  destructionIntervalMs: number;
  /** Milliseconds between periodic GC sweeps. 0 = never on a timer (jobs only). */
  gcIntervalMs: number;
  now?: () => Date;
  /** Test seam of the sweep (see `GcSweepDeps.onStep`). */
  onSweepStep?: (step: GcSweepStep, digest: string) => Promise<void>;
}

/** Milliseconds between writes of a running job's progress. */
const PROGRESS_WRITE_MS = 1000;

/**
 * Runs GC in the catalog: the destruction pass and the sweep on their
 * timers, and `gc` jobs from `POST /gc`. A job is created `queued` and run
 * by whichever replica claims it (`claimQueued`), so a job survives the
 * replica that took the request. In one process everything runs one at a
 * time; across replicas the candidates' claims keep sweeps apart.
 */
export class GcRunner {
  readonly destruction: EntryDestructionWorker;
  readonly sweep: GcSweep;
  readonly #deps: GcRunnerDeps;
  readonly #log: Logger;
  #chain: Promise<unknown> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #started = false;
  /** Set by stop(): no job is claimed any more, so none is left half-run by a closing process. */
  #closed = false;

  constructor(deps: GcRunnerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'gc-runner' });
    const now = deps.now === undefined ? {} : { now: deps.now };
    this.destruction = new EntryDestructionWorker({ candidates: deps.store.gcCandidates, logger: deps.logger, ...now });
    this.sweep = new GcSweep({
      candidates: deps.store.gcCandidates,
      blobs: deps.blobs,
      logger: deps.logger,
      graceMs: deps.graceMs,
      ...now,
      ...(deps.onSweepStep === undefined ? {} : { onStep: deps.onSweepStep }),
    });
  }

  /** Starts the timers. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#closed = false;
    const every = (ms: number, work: () => Promise<unknown>): void => {
      if (ms <= 0) return;
      const timer = setInterval(() => void this.#serial(work), ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#deps.destructionIntervalMs, async () => {
      await this.destruction.runOnce();
      await this.#drainJobs();
    });
    every(this.#deps.gcIntervalMs, () => this.sweep.sweep());
    // Jobs queued while no catalog ran.
    this.kick();
  }

  /** Stops the timers and waits for the work in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#chain;
  }

  /** Queues a `gc` job and nudges this process to run it; resolves with the queued job. */
  async requestGc(dryRun: boolean): Promise<Job> {
    const job = await this.#deps.store.jobs.create({ kind: 'gc', registryId: null, params: { dry_run: dryRun } });
    this.kick();
    return job;
  }

  /** Runs queued gc jobs soon, in this process. */
  kick(): void {
    void this.#serial(() => this.#drainJobs());
  }

  /** Waits until the work queued so far in this process is done (tests). */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /** One thing at a time in this process; a failure is logged and does not stop the next. */
  #serial(work: () => Promise<unknown>): Promise<unknown> {
    const next = this.#chain.then(work).catch((err: unknown) => this.#log.error({ err }, 'gc work failed'));
    this.#chain = next;
    return next;
  }

  async #drainJobs(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      const job = await this.#deps.store.jobs.claimQueued('gc', this.#now());
      if (job === undefined) return;
      await this.#runJob(job);
    }
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  async #runJob(job: Job): Promise<void> {
    const jobs = this.#deps.store.jobs;
    const dryRun = job.params.dry_run === true;
    try {
      let result: JobData;
      let errors: string[] = [];
      if (dryRun) {
        const plan = await this.sweep.plan();
        result = { dry_run: true, objects_would_delete: plan.objects, bytes_would_free: plan.bytes, digests: plan.digests };
      } else {
        const destroyed = await this.destruction.runOnce();
        let lastWrite = 0;
        const report = await this.sweep.sweep(async (r) => {
          if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
          lastWrite = Date.now();
          await jobs.update(job.id, { progress: { objectsDone: r.objects, bytesDone: r.bytes } });
        });
        result = gcResult(report, destroyed);
        errors = report.errors;
        await jobs.update(job.id, { progress: { objectsDone: report.objects, objectsTotal: report.objects, bytesDone: report.bytes, bytesTotal: report.bytes } });
      }
      await jobs.update(job.id, {
        state: errors.length === 0 ? 'succeeded' : 'failed',
        result,
        ...(errors.length === 0 ? {} : { appendErrors: errors }),
        finishedAt: this.#now(),
      });
      this.#log.info({ jobId: job.id, ...result, digests: undefined }, 'gc job finished');
    } catch (err) {
      this.#log.error({ jobId: job.id, err }, 'gc job failed');
      await jobs.update(job.id, { state: 'failed', appendErrors: [(err as Error).message], finishedAt: this.#now() });
    }
  }
}

function gcResult(report: GcReport, destroyed: DestructionReport): JobData {
  return { dry_run: false, objects_deleted: report.objects, bytes_freed: report.bytes, digests: report.digests, entries_destroyed: destroyed.entries };
}
