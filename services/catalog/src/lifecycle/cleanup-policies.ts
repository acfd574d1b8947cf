import { NotFoundError, ValidationError } from '@vreg/contracts';
import {
  CLEANUP_CADENCES,
  type CleanupCadence,
  type CleanupPolicy,
  type CleanupRun,
  DAY_MS,
  KEEP_N_DAYS_MAX,
  KEEP_N_DAYS_MIN,
  nextCleanupRunAt,
} from '../domain/cleanup-policy.ts';
import type { Job, JobData } from '../domain/job.ts';
import type { Page, PageRequest } from '../domain/page.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { activityPagesOf } from './entry-batches.ts';
import { type MarkOutcome, markEntries } from './entry-marker.ts';
import type { JobHandler, JobReporter } from './job-worker.ts';

/** A policy as an administrator sets it (PUT). */
export interface CleanupPolicyInput {
  enabled: boolean;
  keepNDaysAfterDownload: number;
  cadence: number;
}

export interface CleanupPoliciesDeps {
  store: Pick<CatalogStore, 'registries' | 'cacheEntries' | 'jobs' | 'cleanupPolicies'>;
  /** Called after a job is queued, so a local worker can start it at once. */
  onQueued?: () => void;
  now?: () => Date;
  /** Entries read per query while marking (default `SWEEP_BATCH`). */
  batchSize?: number;
}

/**
 * Cleanup policies: the admin use cases (GET/PUT/DELETE the policy, run
 * now, list runs) and the cleanup job itself (`handler`), which marks the
 * registry's entries not downloaded (or, never downloaded, not cached)
 * within the last `keep_n_days_after_download` days `pending_destruction`,
 * writes an audit record and the policy's last-run fields.
 */
export class CleanupPolicies {
  readonly #deps: CleanupPoliciesDeps;
  readonly handler: JobHandler = (job, reporter) => this.#run(job, reporter);

  constructor(deps: CleanupPoliciesDeps) {
    this.#deps = deps;
  }

  /** @throws NotFoundError (registry or policy) */
  async get(registryId: string): Promise<CleanupPolicy> {
    await this.#registry(registryId);
    const policy = await this.#deps.store.cleanupPolicies.get(registryId);
    if (policy === undefined) throw new NotFoundError('registry has no cleanup policy', { registryId });
    return policy;
  }

  /**
   * Creates or replaces the policy. The next run is a cadence from now when
   * the policy is new, (re)enabled or its cadence changed; otherwise it stays.
   * @throws NotFoundError (registry), ValidationError
   */
  async put(registryId: string, input: CleanupPolicyInput): Promise<CleanupPolicy> {
    assertPolicyInput(input);
    await this.#registry(registryId);
    const current = await this.#deps.store.cleanupPolicies.get(registryId);
    const reschedule = current === undefined || (input.enabled && !current.enabled) || current.cadence !== input.cadence;
    return this.#deps.store.cleanupPolicies.put(registryId, {
      enabled: input.enabled,
      keepNDaysAfterDownload: input.keepNDaysAfterDownload,
      cadence: input.cadence as CleanupCadence,
      nextRunAt: reschedule ? nextCleanupRunAt(this.#now(), input.cadence) : current.nextRunAt,
    });
  }

  /** @throws NotFoundError (registry or policy) */
  async delete(registryId: string): Promise<void> {
    await this.#registry(registryId);
    if (!(await this.#deps.store.cleanupPolicies.delete(registryId)))
      throw new NotFoundError('registry has no cleanup policy', { registryId });
  }

  /** Queues a cleanup job now, whatever `next_run_at` says. @throws NotFoundError (registry or policy) */
  async runNow(registryId: string): Promise<Job> {
    await this.get(registryId);
    return this.queue(registryId, 'manual');
  }

  /** Queues a cleanup job of the registry (the scheduler calls this for due policies). */
  async queue(registryId: string, trigger: 'manual' | 'schedule'): Promise<Job> {
    const job = await this.#deps.store.jobs.create({ kind: 'cleanup', registryId, params: { registry_id: registryId, trigger } });
    this.#deps.onQueued?.();
    return job;
  }

  /** @throws NotFoundError (registry) */
  async listRuns(registryId: string, page: PageRequest): Promise<Page<CleanupRun>> {
    await this.#registry(registryId);
    return this.#deps.store.cleanupPolicies.listRuns(registryId, page);
  }

  async #run(job: Job, reporter: JobReporter): Promise<JobData> {
    const { store } = this.#deps;
    const registryId = job.registryId ?? '';
    const policy = await store.cleanupPolicies.get(registryId);
    if (policy === undefined) throw new Error(`registry ${registryId} has no cleanup policy any more`);
    const startedAt = job.startedAt ?? this.#now();
    const cutoff = new Date(this.#now().getTime() - policy.keepNDaysAfterDownload * DAY_MS);
    await store.cleanupPolicies.recordRun(registryId, { status: 'running' });
    let outcome: MarkOutcome = { entries: 0, bytes: 0 };
    try {
      // The cut-off is in the query: only stale entries are read, a batch at a time.
      const totals = await store.cacheEntries.measure({ registryId, status: 'default', lastActivityBefore: cutoff });
      const stale = activityPagesOf(store.cacheEntries, registryId, {
        before: cutoff,
        ...(this.#deps.batchSize === undefined ? {} : { batchSize: this.#deps.batchSize }),
      });
      outcome = await markEntries(store.cacheEntries, stale, totals, reporter);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.#audit(job, policy, startedAt, outcome, 'failed');
      await store.cleanupPolicies.recordRun(registryId, {
        status: 'failed',
        lastRunAt: startedAt,
        lastRunDeletedEntriesCount: outcome.entries,
        lastRunDeletedSize: outcome.bytes,
        failureMessage: message,
      });
      throw err;
    }
    await this.#audit(job, policy, startedAt, outcome, 'succeeded');
    await store.cleanupPolicies.recordRun(registryId, {
      status: 'scheduled',
      lastRunAt: startedAt,
      lastRunDeletedEntriesCount: outcome.entries,
      lastRunDeletedSize: outcome.bytes,
      failureMessage: null,
    });
    return {
      deleted_entries_count: outcome.entries,
      deleted_size: outcome.bytes,
      keep_n_days_after_download: policy.keepNDaysAfterDownload,
      cutoff: cutoff.toISOString(),
    };
  }

  async #audit(job: Job, policy: CleanupPolicy, startedAt: Date, outcome: MarkOutcome, status: 'succeeded' | 'failed'): Promise<void> {
    await this.#deps.store.cleanupPolicies.addRun({
      registryId: policy.registryId,
      jobId: job.id,
      startedAt,
      finishedAt: this.#now(),
      keepNDaysAfterDownload: policy.keepNDaysAfterDownload,
      deletedEntriesCount: outcome.entries,
      deletedSize: outcome.bytes,
      status,
    });
  }

  async #registry(registryId: string): Promise<void> {
    if ((await this.#deps.store.registries.get(registryId)) === undefined) throw new NotFoundError('registry not found', { registryId });
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}

/** The rules of a policy, also for callers that skip the HTTP schema. */
export function assertPolicyInput(input: CleanupPolicyInput): void {
  if (
    !Number.isInteger(input.keepNDaysAfterDownload) ||
    input.keepNDaysAfterDownload < KEEP_N_DAYS_MIN ||
    input.keepNDaysAfterDownload > KEEP_N_DAYS_MAX
  ) {
    throw new ValidationError(`keep_n_days_after_download must be an integer from ${KEEP_N_DAYS_MIN} to ${KEEP_N_DAYS_MAX}`, {
      field: 'keep_n_days_after_download',
    });
  }
  if (!(CLEANUP_CADENCES as readonly number[]).includes(input.cadence)) {
    throw new ValidationError(`cadence must be one of ${CLEANUP_CADENCES.join(', ')} (days)`, { field: 'cadence' });
  }
}
