import type { Collection, Db } from 'mongodb';
import {
  applyRunUpdate,
  type CleanupCadence,
  type CleanupPolicy,
  type CleanupPolicyRunUpdate,
  type CleanupPolicySettings,
  type CleanupPolicyStatus,
  type CleanupRun,
  claimPolicyRun,
  type NewCleanupRun,
  settlePolicy,
} from '../../domain/cleanup-policy.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { CleanupPolicyRepository } from '../../ports/cleanup-policy-repository.ts';
import { takeClaim } from './mongo-claims.ts';
import { Collections } from './mongo-documents.ts';
import type { MongoIdAllocator } from './mongo-id-allocator.ts';

export interface CleanupPolicyDocument {
  registry_id: number;
  enabled: boolean;
  keep_n_days_after_download: number;
  cadence: number;
  next_run_at: Date;
  last_run_at: Date | null;
  last_run_deleted_entries_count: number;
  last_run_deleted_size: number;
  status: CleanupPolicyStatus;
  failure_message: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface CleanupRunDocument {
  id: number;
  registry_id: number;
  job_id: number;
  started_at: Date;
  finished_at: Date;
  keep_n_days_after_download: number;
  deleted_entries_count: number;
  deleted_size: number;
  status: CleanupRun['status'];
}

/** One scheduled run taken by one replica: unique on (registry_id, run_at). */
export interface CleanupPolicyClaimDocument {
  registry_id: number;
  run_at: Date;
  claimed_at: Date;
}

const NO_ID = { projection: { _id: 0 } } as const;

function toPolicy(doc: CleanupPolicyDocument): CleanupPolicy {
  return {
    registryId: String(doc.registry_id),
    enabled: doc.enabled,
    keepNDaysAfterDownload: doc.keep_n_days_after_download,
    cadence: doc.cadence as CleanupCadence,
    nextRunAt: doc.next_run_at,
    lastRunAt: doc.last_run_at ?? null,
    lastRunDeletedEntriesCount: doc.last_run_deleted_entries_count,
    lastRunDeletedSize: doc.last_run_deleted_size,
    status: doc.status,
    failureMessage: doc.failure_message ?? null,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
  };
}

function toDocument(p: CleanupPolicy): CleanupPolicyDocument {
  return {
    registry_id: Number(p.registryId),
    enabled: p.enabled,
    keep_n_days_after_download: p.keepNDaysAfterDownload,
    cadence: p.cadence,
    next_run_at: p.nextRunAt,
    last_run_at: p.lastRunAt,
    last_run_deleted_entries_count: p.lastRunDeletedEntriesCount,
    last_run_deleted_size: p.lastRunDeletedSize,
    status: p.status,
    failure_message: p.failureMessage,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

function toRun(doc: CleanupRunDocument): CleanupRun {
  return {
    id: String(doc.id),
    registryId: String(doc.registry_id),
    jobId: String(doc.job_id),
    startedAt: doc.started_at,
    finishedAt: doc.finished_at,
    keepNDaysAfterDownload: doc.keep_n_days_after_download,
    deletedEntriesCount: doc.deleted_entries_count,
    deletedSize: doc.deleted_size,
    status: doc.status,
  };
}

/**
 * Cleanup policies in `cleanup_policies` (unique `registry_id`), runs in
 * `cleanup_runs`. A due run is claimed by inserting into
 * `cleanup_policy_claims` keyed by the run's scheduled time: FerretDB applies
 * a conditional update as read-modify-write, so two replicas could both
 * "move" `next_run_at`, while exactly one unique insert wins.
 */
export class MongoCleanupPolicyRepository implements CleanupPolicyRepository {
  readonly #policies: Collection<CleanupPolicyDocument>;
  readonly #runs: Collection<CleanupRunDocument>;
  readonly #claims: Collection<CleanupPolicyClaimDocument>;
  readonly #ids: MongoIdAllocator;

  constructor(db: Db, ids: MongoIdAllocator) {
    this.#policies = db.collection<CleanupPolicyDocument>(Collections.cleanupPolicies);
    this.#runs = db.collection<CleanupRunDocument>(Collections.cleanupRuns);
    this.#claims = db.collection<CleanupPolicyClaimDocument>(Collections.cleanupPolicyClaims);
    this.#ids = ids;
  }

  async get(registryId: string): Promise<CleanupPolicy | undefined> {
    const n = parseNumericId(registryId);
    if (n === undefined) return undefined;
    const doc = await this.#policies.findOne({ registry_id: n }, NO_ID);
    return doc === null ? undefined : toPolicy(doc);
  }

  async put(registryId: string, settings: CleanupPolicySettings): Promise<CleanupPolicy> {
    const policy = settlePolicy(registryId, settings, await this.get(registryId), new Date());
    await this.#policies.replaceOne({ registry_id: Number(registryId) }, toDocument(policy), { upsert: true });
    return policy;
  }

  async delete(registryId: string): Promise<boolean> {
    const n = parseNumericId(registryId);
    if (n === undefined) return false;
    return (await this.#policies.deleteOne({ registry_id: n })).deletedCount > 0;
  }

  async claimDue(now: Date): Promise<CleanupPolicy[]> {
    const due = await this.#policies.find({ enabled: true, next_run_at: { $lte: now } }, NO_ID).toArray();
    const claimed: CleanupPolicy[] = [];
    for (const doc of due) {
      const key = { registry_id: doc.registry_id, run_at: doc.next_run_at };
      if (!(await takeClaim(this.#claims, key, { ...key, claimed_at: now }))) continue; // another replica runs it
      const next = claimPolicyRun(toPolicy(doc), now, new Date());
      await this.#policies.updateOne(
        { registry_id: doc.registry_id },
        { $set: { next_run_at: next.nextRunAt, status: next.status, updated_at: next.updatedAt } },
      );
      claimed.push(next);
    }
    return claimed;
  }

  async recordRun(registryId: string, update: CleanupPolicyRunUpdate): Promise<CleanupPolicy | undefined> {
    const current = await this.get(registryId);
    if (current === undefined) return undefined;
    const next = applyRunUpdate(current, update, new Date());
    const doc = toDocument(next);
    await this.#policies.updateOne(
      { registry_id: doc.registry_id },
      {
        $set: {
          status: doc.status,
          last_run_at: doc.last_run_at,
          last_run_deleted_entries_count: doc.last_run_deleted_entries_count,
          last_run_deleted_size: doc.last_run_deleted_size,
          failure_message: doc.failure_message,
          updated_at: doc.updated_at,
        },
      },
    );
    return next;
  }

  async addRun(run: NewCleanupRun): Promise<CleanupRun> {
    const doc = await this.#ids.insertWithNewId(this.#runs, Collections.cleanupRuns, (id) => ({
      id,
      registry_id: Number(run.registryId),
      job_id: Number(run.jobId),
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      keep_n_days_after_download: run.keepNDaysAfterDownload,
      deleted_entries_count: run.deletedEntriesCount,
      deleted_size: run.deletedSize,
      status: run.status,
    }));
    return toRun(doc);
  }

  async listRuns(registryId: string, page: PageRequest): Promise<Page<CleanupRun>> {
    const n = parseNumericId(registryId);
    if (n === undefined) return { items: [], total: 0 };
    const [docs, total] = await Promise.all([
      this.#runs.find({ registry_id: n }, NO_ID).sort({ id: -1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#runs.countDocuments({ registry_id: n }),
    ]);
    return { items: docs.map(toRun), total };
  }
}
