import type Database from 'better-sqlite3';
import type { DestroyedEntry, GcCandidate, GcCandidateState } from '../../domain/gc-candidate.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { GcCandidateRepository, GcDueFilter } from '../../ports/gc-candidate-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface GcCandidateRow {
  digest: string;
  state: string;
  size: number;
  marked_at: string;
  claim_id: string | null;
  claimed_at: string | null;
  deleted_at: string | null;
}

function toCandidate(row: GcCandidateRow): GcCandidate {
  return {
    digest: row.digest,
    state: row.state as GcCandidateState,
    size: row.size,
    markedAt: fromSqlTime(row.marked_at),
    ...(row.claim_id === null ? {} : { claimId: row.claim_id }),
    ...(row.claimed_at === null ? {} : { claimedAt: fromSqlTime(row.claimed_at) }),
    ...(row.deleted_at === null ? {} : { deletedAt: fromSqlTime(row.deleted_at) }),
  };
}

const DUE = `((state = 'pending' AND marked_at <= @markedBefore) OR (state = 'deleting' AND claimed_at < @staleClaimBefore))`;

function dueParams(due: GcDueFilter): { markedBefore: string; staleClaimBefore: string } {
  return { markedBefore: toSqlTime(due.markedBefore), staleClaimBefore: toSqlTime(due.staleClaimBefore) };
}

/** GC candidates in the `gc_candidates` table, with reference counts over `cache_entries`. */
export class SqliteGcCandidateRepository implements GcCandidateRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async listPendingDestruction(limit: number): Promise<DestroyedEntry[]> {
    return this.#db
      .prepare<[number], { upstream_id: number; relative_path: string; digest: string; size: number }>(
        `SELECT upstream_id, relative_path, digest, size FROM cache_entries WHERE status = 'pending_destruction' LIMIT ?`,
      )
      .all(limit)
      .map((r) => ({ upstreamId: String(r.upstream_id), relativePath: r.relative_path, digest: r.digest, size: r.size }));
  }

  async deletePendingEntry(upstreamId: string, relativePath: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    return (
      this.#db
        .prepare(`DELETE FROM cache_entries WHERE upstream_id = ? AND relative_path = ? AND status = 'pending_destruction'`)
        .run(n, relativePath).changes > 0
    );
  }

  async isReferenced(digest: string): Promise<boolean> {
    return (
      this.#db
        .prepare<[string], { one: number }>(`SELECT 1 AS one FROM cache_entries WHERE digest = ? AND status = 'default' LIMIT 1`)
        .get(digest) !== undefined
    );
  }

  async mark(digest: string, size: number, at: Date): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO gc_candidates (digest, state, size, marked_at) VALUES (?, 'pending', ?, ?)
         ON CONFLICT (digest) DO UPDATE SET state = 'pending', size = excluded.size, marked_at = excluded.marked_at,
           claim_id = NULL, claimed_at = NULL, deleted_at = NULL
         WHERE gc_candidates.state = 'deleted'`,
      )
      .run(digest, size, toSqlTime(at));
  }

  async get(digest: string): Promise<GcCandidate | undefined> {
    const row = this.#db.prepare<[string], GcCandidateRow>('SELECT * FROM gc_candidates WHERE digest = ?').get(digest);
    return row === undefined ? undefined : toCandidate(row);
  }

  async listDue(due: GcDueFilter, limit: number): Promise<GcCandidate[]> {
    return this.#db
      .prepare<[{ markedBefore: string; staleClaimBefore: string; limit: number }], GcCandidateRow>(
        `SELECT * FROM gc_candidates WHERE ${DUE} ORDER BY marked_at, digest LIMIT @limit`,
      )
      .all({ ...dueParams(due), limit })
      .map(toCandidate);
  }

  async claim(digest: string, claimId: string, at: Date, due: GcDueFilter): Promise<boolean> {
    const result = this.#db
      .prepare(`UPDATE gc_candidates SET state = 'deleting', claim_id = @claimId, claimed_at = @at WHERE digest = @digest AND ${DUE}`)
      .run({ ...dueParams(due), claimId, at: toSqlTime(at), digest });
    return result.changes > 0;
  }

  async release(digest: string, claimId: string): Promise<boolean> {
    return (
      this.#db.prepare(`DELETE FROM gc_candidates WHERE digest = ? AND state = 'deleting' AND claim_id = ?`).run(digest, claimId).changes >
      0
    );
  }

  async markDeleted(digest: string, claimId: string, at: Date): Promise<boolean> {
    return (
      this.#db
        .prepare(
          `UPDATE gc_candidates SET state = 'deleted', deleted_at = ?, claim_id = NULL, claimed_at = NULL WHERE digest = ? AND state = 'deleting' AND claim_id = ?`,
        )
        .run(toSqlTime(at), digest, claimId).changes > 0
    );
  }

  async dropPending(digest: string): Promise<boolean> {
    return this.#db.prepare(`DELETE FROM gc_candidates WHERE digest = ? AND state = 'pending'`).run(digest).changes > 0;
  }

  async purgeTombstones(before: Date): Promise<number> {
    return this.#db.prepare(`DELETE FROM gc_candidates WHERE state = 'deleted' AND deleted_at < ?`).run(toSqlTime(before)).changes;
  }

  async retractEntry(key: { upstreamId: string; relativePath: string; digest: string; upstreamCheckedAt: Date }): Promise<boolean> {
    const upstreamId = parseNumericId(key.upstreamId);
    if (upstreamId === undefined) return false;
    return (
      this.#db
        .prepare(`DELETE FROM cache_entries WHERE upstream_id = ? AND relative_path = ? AND digest = ? AND upstream_checked_at = ?`)
        .run(upstreamId, key.relativePath, key.digest, toSqlTime(key.upstreamCheckedAt)).changes > 0
    );
  }
}
