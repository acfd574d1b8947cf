import type { Job, JobFilter, JobKind, JobPatch, NewJob } from '../domain/job.ts';
import type { Page, PageRequest } from '../domain/page.ts';

/** Stores jobs (purge, cleanup, GC, warm-up) by id. */
export interface JobRepository {
  /** Stores a `queued` job with the next free id, empty progress and `createdAt = updatedAt = now`. */
  create(input: NewJob): Promise<Job>;

  /** The job with this id, or undefined (also for ids that are not positive integers). */
  get(id: string): Promise<Job | undefined>;

  /** One page of the jobs matching `filter`, newest (highest id) first, and their total count. */
  list(filter: JobFilter, page: PageRequest): Promise<Page<Job>>;

  /** Applies the patch (see `applyJobPatch`) and bumps `updatedAt`; undefined when there is no such job. */
  update(id: string, patch: JobPatch): Promise<Job | undefined>;

  /**
   * Applies the patch only when the stored job still has the `state` and
   * `updatedAt` the caller read (optimistic concurrency): several catalog
   * replicas may fail an abandoned job, or apply progress, at once, and the
   * loser must not overwrite the winner's end state. Resolves the patched
   * job, or undefined when the job changed meanwhile (or does not exist).
   */
  updateIfUnchanged(id: string, seen: Pick<Job, 'state' | 'updatedAt'>, patch: JobPatch): Promise<Job | undefined>;

  /**
   * Moves the oldest `queued` job of `kind` to `running` (`startedAt = at`)
   * and returns it, or undefined when none is queued. Atomic across
   * processes: when several catalog replicas race, each job is returned to
   * exactly one of them.
   */
  claimQueued(kind: JobKind, at: Date): Promise<Job | undefined>;
}
