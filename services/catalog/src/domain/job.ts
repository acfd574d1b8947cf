/**
 * Jobs: one record for every long operation the admin API starts (purge,
 * cleanup, GC, warm-up). A job is created `queued`, claimed by exactly one
 * worker (`running`), and ends `succeeded` or `failed`.
 */
export const JobKinds = ['purge', 'cleanup', 'gc', 'warm'] as const;
export type JobKind = (typeof JobKinds)[number];

export const JobStates = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobState = (typeof JobStates)[number];

/** Most error messages one job keeps; later ones are dropped (the first ones usually explain the rest). */
export const MAX_JOB_ERRORS = 100;

/** How far a job got; totals are null until the worker knows them. */
export interface JobProgress {
  readonly objectsDone: number;
  readonly objectsTotal: number | null;
  readonly bytesDone: number;
  readonly bytesTotal: number | null;
}

export const EMPTY_JOB_PROGRESS: JobProgress = { objectsDone: 0, objectsTotal: null, bytesDone: 0, bytesTotal: null };

/** Kind-specific JSON (what was asked, what came out). Never secrets. */
export type JobData = Readonly<Record<string, unknown>>;

export interface Job {
  /** Small positive integer as a string. */
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** The registry the job works on; null for store-wide jobs (GC). */
  readonly registryId: string | null;
  readonly params: JobData;
  readonly progress: JobProgress;
  readonly result: JobData | null;
  /** Human-readable messages, at most `MAX_JOB_ERRORS`. */
  readonly errors: readonly string[];
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly updatedAt: Date;
}

/** What a caller gives to create a job; it starts `queued` with empty progress. */
export interface NewJob {
  kind: JobKind;
  registryId: string | null;
  params: JobData;
}

/**
 * Changes to a job. Absent fields stay; `progress` is merged field by field;
 * `appendErrors` adds messages (keeping at most `MAX_JOB_ERRORS`).
 */
export interface JobPatch {
  state?: JobState;
  progress?: Partial<JobProgress>;
  result?: JobData | null;
  appendErrors?: readonly string[];
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

/** Which jobs a list shows; absent fields match everything. */
export interface JobFilter {
  kind?: JobKind;
  registryId?: string;
  /** Only jobs of one of these registries (a restricted token's reach): store-wide jobs (GC) never match. An empty list matches none. */
  registryIds?: readonly string[];
  state?: JobState;
}

/** True when the job will not change any more. */
export function isFinished(job: Pick<Job, 'state'>): boolean {
  return job.state === 'succeeded' || job.state === 'failed';
}

/**
 * The job after `patch`, with `updatedAt = now`: the one definition of a
 * patch, shared by every store adapter so they cannot disagree.
 */
export function applyJobPatch(job: Job, patch: JobPatch, now: Date): Job {
  return {
    ...job,
    ...(patch.state === undefined ? {} : { state: patch.state }),
    ...(patch.progress === undefined ? {} : { progress: { ...job.progress, ...stripUndefined(patch.progress) } }),
    ...(patch.result === undefined ? {} : { result: patch.result }),
    ...(patch.appendErrors === undefined ? {} : { errors: [...job.errors, ...patch.appendErrors].slice(0, MAX_JOB_ERRORS) }),
    ...(patch.startedAt === undefined ? {} : { startedAt: patch.startedAt }),
    ...(patch.finishedAt === undefined ? {} : { finishedAt: patch.finishedAt }),
    updatedAt: now,
  };
}

/** A new queued job as every store builds it. */
export function newJobRecord(id: string, input: NewJob, now: Date): Job {
  return {
    id,
    kind: input.kind,
    state: 'queued',
    registryId: input.registryId,
    params: { ...input.params },
    progress: EMPTY_JOB_PROGRESS,
    result: null,
    errors: [],
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
