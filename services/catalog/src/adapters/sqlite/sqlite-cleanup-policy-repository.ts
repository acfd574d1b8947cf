import type Database from 'better-sqlite3';
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
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface PolicyRow {
  registry_id: number;
  enabled: number;
  keep_n_days_after_download: number;
  cadence: number;
  next_run_at: string;
  last_run_at: string | null;
  last_run_deleted_entries_count: number;
  last_run_deleted_size: number;
  status: string;
  failure_message: string | null;
  created_at: string;
  updated_at: string;
}

interface RunRow {
  id: number;
  registry_id: number;
  job_id: number;
  started_at: string;
  finished_at: string;
  keep_n_days_after_download: number;
  deleted_entries_count: number;
  deleted_size: number;
  status: string;
}

function toPolicy(row: PolicyRow): CleanupPolicy {
  return {
    registryId: String(row.registry_id),
    enabled: row.enabled === 1,
    keepNDaysAfterDownload: row.keep_n_days_after_download,
    cadence: row.cadence as CleanupCadence,
    nextRunAt: fromSqlTime(row.next_run_at),
    lastRunAt: row.last_run_at === null ? null : fromSqlTime(row.last_run_at),
    lastRunDeletedEntriesCount: row.last_run_deleted_entries_count,
    lastRunDeletedSize: row.last_run_deleted_size,
    status: row.status as CleanupPolicyStatus,
    failureMessage: row.failure_message,
    createdAt: fromSqlTime(row.created_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

function toRun(row: RunRow): CleanupRun {
  return {
    id: String(row.id),
    registryId: String(row.registry_id),
    jobId: String(row.job_id),
    startedAt: fromSqlTime(row.started_at),
    finishedAt: fromSqlTime(row.finished_at),
    keepNDaysAfterDownload: row.keep_n_days_after_download,
    deletedEntriesCount: row.deleted_entries_count,
    deletedSize: row.deleted_size,
    status: row.status as CleanupRun['status'],
  };
}

/** Cleanup policies in `cleanup_policies` (one row per registry) and runs in `cleanup_runs`. */
export class SqliteCleanupPolicyRepository implements CleanupPolicyRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async get(registryId: string): Promise<CleanupPolicy | undefined> {
    return this.#get(registryId);
  }

  async put(registryId: string, settings: CleanupPolicySettings): Promise<CleanupPolicy> {
    return this.#db.transaction(() => {
      const policy = settlePolicy(registryId, settings, this.#get(registryId), new Date());
      this.#write(policy);
      return policy;
    })();
  }

  async delete(registryId: string): Promise<boolean> {
    const n = parseNumericId(registryId);
    if (n === undefined) return false;
    return this.#db.prepare('DELETE FROM cleanup_policies WHERE registry_id = ?').run(n).changes > 0;
  }

  async claimDue(now: Date): Promise<CleanupPolicy[]> {
    // One transaction: SQLite serializes writers, so no other claim interleaves.
    return this.#db.transaction(() => {
      const due = this.#db
        .prepare<[string], PolicyRow>('SELECT * FROM cleanup_policies WHERE enabled = 1 AND next_run_at <= ?')
        .all(toSqlTime(now))
        .map(toPolicy);
      const updatedAt = new Date();
      return due.map((policy) => {
        const claimed = claimPolicyRun(policy, now, updatedAt);
        this.#write(claimed);
        return claimed;
      });
    })();
  }

  async recordRun(registryId: string, update: CleanupPolicyRunUpdate): Promise<CleanupPolicy | undefined> {
    return this.#db.transaction(() => {
      const current = this.#get(registryId);
      if (current === undefined) return undefined;
      const next = applyRunUpdate(current, update, new Date());
      this.#write(next);
      return next;
    })();
  }

  async addRun(run: NewCleanupRun): Promise<CleanupRun> {
    const row = this.#db
      .prepare<unknown[], RunRow>(
        `INSERT INTO cleanup_runs (registry_id, job_id, started_at, finished_at, keep_n_days_after_download, deleted_entries_count, deleted_size, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        Number(run.registryId),
        Number(run.jobId),
        toSqlTime(run.startedAt),
        toSqlTime(run.finishedAt),
        run.keepNDaysAfterDownload,
        run.deletedEntriesCount,
        run.deletedSize,
        run.status,
      );
    return toRun(row as RunRow);
  }

  async listRuns(registryId: string, page: PageRequest): Promise<Page<CleanupRun>> {
    const n = parseNumericId(registryId);
    if (n === undefined) return { items: [], total: 0 };
    const rows = this.#db
      .prepare<[number, number, number], RunRow>('SELECT * FROM cleanup_runs WHERE registry_id = ? ORDER BY id DESC LIMIT ? OFFSET ?')
      .all(n, page.perPage, pageOffset(page));
    const { total } = this.#db
      .prepare<[number], { total: number }>('SELECT count(*) AS total FROM cleanup_runs WHERE registry_id = ?')
      .get(n) as { total: number };
    return { items: rows.map(toRun), total };
  }

  #get(registryId: string): CleanupPolicy | undefined {
    const n = parseNumericId(registryId);
    if (n === undefined) return undefined;
    const row = this.#db.prepare<[number], PolicyRow>('SELECT * FROM cleanup_policies WHERE registry_id = ?').get(n);
    return row === undefined ? undefined : toPolicy(row);
  }

  #write(p: CleanupPolicy): void {
    this.#db
      .prepare(
        `INSERT INTO cleanup_policies (registry_id, enabled, keep_n_days_after_download, cadence, next_run_at, last_run_at, last_run_deleted_entries_count,
           last_run_deleted_size, status, failure_message, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (registry_id) DO UPDATE SET enabled = excluded.enabled, keep_n_days_after_download = excluded.keep_n_days_after_download,
           cadence = excluded.cadence, next_run_at = excluded.next_run_at, last_run_at = excluded.last_run_at,
           last_run_deleted_entries_count = excluded.last_run_deleted_entries_count, last_run_deleted_size = excluded.last_run_deleted_size,
           status = excluded.status, failure_message = excluded.failure_message, updated_at = excluded.updated_at`,
      )
      .run(
        Number(p.registryId),
        p.enabled ? 1 : 0,
        p.keepNDaysAfterDownload,
        p.cadence,
        toSqlTime(p.nextRunAt),
        p.lastRunAt === null ? null : toSqlTime(p.lastRunAt),
        p.lastRunDeletedEntriesCount,
        p.lastRunDeletedSize,
        p.status,
        p.failureMessage,
        toSqlTime(p.createdAt),
        toSqlTime(p.updatedAt),
      );
  }
}
