import type { BlobStore } from '@vreg/blob-store';
import type { Logger } from '@vreg/logging';
import type { Job, JobData } from '../domain/job.ts';
import type { JobHandler, JobReporter } from '../lifecycle/job-worker.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { EntryDestructionWorker } from './entry-destruction-worker.ts';
import { GcSweep, type GcSweepStep } from './gc-sweep.ts';

export interface GcRunnerDeps {
  store: CatalogStore;
  blobs: Pick<BlobStore, 'delete'>;
  logger: Logger;
  /** Milliseconds a GC candidate waits before its object may be deleted (VREG_GC_GRACE_MS). */
  graceMs: number;
  /** Milliseconds between destruction passes. 0 = never on a timer (gc jobs only). */
  destructionIntervalMs: number;
  /** Milliseconds between periodic GC sweeps. 0 = never on a timer (gc jobs only). */
  gcIntervalMs: number;
  /** Called once a gc job is queued: wakes the local job worker, which runs `jobHandler`. */
  onQueued?: () => void;
  now?: () => Date;
  /** Test seam of the sweep (see `GcSweepDeps.onStep`). */
  onSweepStep?: (step: GcSweepStep, digest: string) => Promise<void>;
}

/** Milliseconds between writes of a running job's progress. */
const PROGRESS_WRITE_MS = 1000;

/**
 * Runs GC in the catalog: the destruction pass and the sweep on their
 * timers, and `gc` jobs from `POST /gc` through the catalog's job worker
 * (`jobHandler`), so a job is run by whichever replica claims it. In one
 * process everything runs one at a time; across replicas the candidates'
 * claims keep sweeps apart.
 */
export class GcRunner {
  readonly destruction: EntryDestructionWorker;
  readonly sweep: GcSweep;
  readonly #deps: GcRunnerDeps;
  readonly #log: Logger;
  #chain: Promise<unknown> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];

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
    if (this.#timers.length > 0) return;
    const every = (ms: number, work: () => Promise<unknown>): void => {
      if (ms <= 0) return;
      const timer = setInterval(
        () => void this.#serial(work).catch((err: unknown) => this.#log.error({ err }, 'periodic gc work failed')),
        ms,
      );
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#deps.destructionIntervalMs, () => this.destruction.runOnce());
    every(this.#deps.gcIntervalMs, () => this.sweep.sweep());
  }

  /** Stops the timers and waits for the work in progress. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#chain.catch(() => undefined);
  }

  /** Queues a `gc` job and wakes the job worker; resolves with the queued job. */
  async requestGc(dryRun: boolean): Promise<Job> {
    const job = await this.#deps.store.jobs.create({ kind: 'gc', registryId: null, params: { dry_run: dryRun } });
    this.#deps.onQueued?.();
    return job;
  }

  /**
   * Runs one claimed `gc` job: a dry run plans; a real one destroys the
   * pending entries, then sweeps. Objects that could not be deleted are
   * listed as errors (their claims are retried once stale) and the job
   * still succeeds with what it did.
   */
  readonly jobHandler: JobHandler = (job, reporter) => this.#serial(() => this.#runJob(job, reporter));

  /** One thing at a time in this process; the caller sees the outcome. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.catch(() => undefined).then(work);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #runJob(job: Job, reporter: JobReporter): Promise<JobData> {
    if (job.params.dry_run === true) {
      const plan = await this.sweep.plan();
      return { dry_run: true, objects_would_delete: plan.objects, bytes_would_free: plan.bytes, digests: plan.digests };
    }
    const destroyed = await this.destruction.runOnce();
    let lastWrite = 0;
    const report = await this.sweep.sweep(async (r) => {
      if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
      lastWrite = Date.now();
      await reporter.progress({ objectsDone: r.objects, bytesDone: r.bytes });
    });
    await reporter.progress({
      objectsDone: report.objects,
      objectsTotal: report.objects,
      bytesDone: report.bytes,
      bytesTotal: report.bytes,
    });
    for (const message of report.errors) await reporter.error(message);
    if (report.failed > report.errors.length)
      await reporter.error(`${report.failed - report.errors.length} more objects could not be deleted`);
    this.#log.info(
      { jobId: job.id, objects: report.objects, bytes: report.bytes, entries: destroyed.entries, errors: report.failed },
      'gc job done',
    );
    return {
      dry_run: false,
      objects_deleted: report.objects,
      bytes_freed: report.bytes,
      digests: report.digests,
      entries_destroyed: destroyed.entries,
    };
  }
}
