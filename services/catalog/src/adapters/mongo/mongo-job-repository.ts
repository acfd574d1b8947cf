import type { Collection, Db, Filter } from 'mongodb';
import {
  applyJobPatch,
  type Job,
  type JobData,
  type JobFilter,
  type JobKind,
  type JobPatch,
  type JobState,
  type NewJob,
  newJobRecord,
} from '../../domain/job.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { JobRepository } from '../../ports/job-repository.ts';
import { takeClaim } from './mongo-claims.ts';
import { Collections } from './mongo-documents.ts';
import type { MongoIdAllocator } from './mongo-id-allocator.ts';

/** A job as stored, GitLab-style snake_case. */
export interface JobDocument {
  id: number;
  kind: JobKind;
  state: JobState;
  registry_id: number | null;
  params: Record<string, unknown>;
  progress: { objects_done: number; objects_total: number | null; bytes_done: number; bytes_total: number | null };
  result: Record<string, unknown> | null;
  errors: string[];
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

/** Proof that one replica took a job: the unique index on `job_id` lets only one insert win. */
export interface JobClaimDocument {
  job_id: number;
  claimed_at: Date;
}

const NO_ID = { projection: { _id: 0 } } as const;
/** Queued jobs a claim looks at per call; more wait for the next poll. */
const CLAIM_CANDIDATES = 20;

function toJob(doc: JobDocument): Job {
  return {
    id: String(doc.id),
    kind: doc.kind,
    state: doc.state,
    registryId: doc.registry_id == null ? null : String(doc.registry_id),
    params: (doc.params ?? {}) as JobData,
    progress: {
      objectsDone: doc.progress.objects_done,
      objectsTotal: doc.progress.objects_total ?? null,
      bytesDone: doc.progress.bytes_done,
      bytesTotal: doc.progress.bytes_total ?? null,
    },
    result: doc.result == null ? null : (doc.result as JobData),
    errors: [...(doc.errors ?? [])],
    createdAt: doc.created_at,
    startedAt: doc.started_at ?? null,
    finishedAt: doc.finished_at ?? null,
    updatedAt: doc.updated_at,
  };
}

/** The fields a patch may change, as stored. */
function mutableFields(job: Job): Partial<JobDocument> {
  return {
    state: job.state,
    progress: {
      objects_done: job.progress.objectsDone,
      objects_total: job.progress.objectsTotal,
      bytes_done: job.progress.bytesDone,
      bytes_total: job.progress.bytesTotal,
    },
    result: job.result === null ? null : { ...job.result },
    errors: [...job.errors],
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    updated_at: job.updatedAt,
  };
}

/**
 * Jobs in `jobs` (unique `id`). Claims go through `job_claims` (unique
 * `job_id`) instead of a conditional `findOneAndUpdate`: FerretDB applies
 * updates as read-modify-write, so two replicas could both flip the same
 * job to running, while a unique insert has exactly one winner everywhere.
 */
export class MongoJobRepository implements JobRepository {
  readonly #jobs: Collection<JobDocument>;
  readonly #claims: Collection<JobClaimDocument>;
  readonly #ids: MongoIdAllocator;

  constructor(db: Db, ids: MongoIdAllocator) {
    this.#jobs = db.collection<JobDocument>(Collections.jobs);
    this.#claims = db.collection<JobClaimDocument>(Collections.jobClaims);
    this.#ids = ids;
  }

  async create(input: NewJob): Promise<Job> {
    const now = new Date();
    const doc = await this.#ids.insertWithNewId(this.#jobs, Collections.jobs, (id) => {
      const job = newJobRecord(String(id), input, now);
      return {
        id,
        kind: job.kind,
        registry_id: job.registryId === null ? null : (parseNumericId(job.registryId) ?? null),
        params: { ...job.params },
        created_at: now,
        ...mutableFields(job),
      } as JobDocument;
    });
    return toJob(doc);
  }

  async get(id: string): Promise<Job | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const doc = await this.#jobs.findOne({ id: n }, NO_ID);
    return doc === null ? undefined : toJob(doc);
  }

  async list(filter: JobFilter, page: PageRequest): Promise<Page<Job>> {
    const query: Filter<JobDocument> = {};
    if (filter.kind !== undefined) query.kind = filter.kind;
    if (filter.state !== undefined) query.state = filter.state;
    if (filter.registryId !== undefined) {
      const n = parseNumericId(filter.registryId);
      if (n === undefined) return { items: [], total: 0 };
      query.registry_id = n;
    }
    if (filter.registryIds !== undefined) {
      const ids = filter.registryIds.map(parseNumericId).filter((id): id is number => id !== undefined);
      // With registryId too, both must hold: $and keeps the one-registry condition.
      query.$and = [{ registry_id: { $in: ids } }];
    }
    const [docs, total] = await Promise.all([
      this.#jobs.find(query, NO_ID).sort({ id: -1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#jobs.countDocuments(query),
    ]);
    return { items: docs.map(toJob), total };
  }

  async update(id: string, patch: JobPatch): Promise<Job | undefined> {
    // Read-modify-write: one worker owns a running job, so its updates do not race.
    const current = await this.get(id);
    if (current === undefined) return undefined;
    const next = applyJobPatch(current, patch, new Date());
    await this.#jobs.updateOne({ id: Number(id) }, { $set: mutableFields(next) });
    return next;
  }

  async updateIfUnchanged(id: string, seen: Pick<Job, 'state' | 'updatedAt'>, patch: JobPatch): Promise<Job | undefined> {
    const current = await this.get(id);
    if (current === undefined || current.state !== seen.state || current.updatedAt.getTime() !== seen.updatedAt.getTime()) return undefined;
    const next = applyJobPatch(current, patch, new Date());
    // The filter repeats the check in the write, so a replica that changed the job since our read wins.
    const written = await this.#jobs.updateOne(
      { id: Number(id), state: seen.state, updated_at: seen.updatedAt },
      { $set: mutableFields(next) },
    );
    return written.matchedCount === 1 ? next : undefined;
  }

  async claimQueued(kind: JobKind, at: Date): Promise<Job | undefined> {
    const candidates = await this.#jobs.find({ kind, state: 'queued' }, NO_ID).sort({ id: 1 }).limit(CLAIM_CANDIDATES).toArray();
    for (const candidate of candidates) {
      if (!(await takeClaim(this.#claims, { job_id: candidate.id }, { job_id: candidate.id, claimed_at: at }))) continue; // another replica has it
      try {
        return await this.update(String(candidate.id), { state: 'running', startedAt: at });
      } catch (err) {
        // Not started: give the claim back so another pass can take the job.
        await this.#claims.deleteOne({ job_id: candidate.id, claimed_at: at }).catch(() => undefined);
        throw err;
      }
    }
    return undefined;
  }
}
