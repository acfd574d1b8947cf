import type { Collection, Db, Filter } from 'mongodb';
import type { DestroyedEntry, GcCandidate, GcCandidateState } from '../../domain/gc-candidate.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { GcCandidateRepository, GcDueFilter } from '../../ports/gc-candidate-repository.ts';
import { type CacheEntryDocument, Collections, isDuplicateKey } from './mongo-documents.ts';

/** A document of `gc_candidates`, unique on `digest`. */
export interface GcCandidateDocument {
  digest: string;
  state: GcCandidateState;
  size: number;
  marked_at: Date;
  claim_id?: string;
  claimed_at?: Date;
  deleted_at?: Date;
}

/** A document of `gc_claims`, unique on (`digest`, `generation`): one sweep per candidate generation. */
interface GcClaimDocument {
  digest: string;
  generation: string;
  claim_id: string;
  claimed_at: Date;
}

function toCandidate(doc: GcCandidateDocument): GcCandidate {
  return {
    digest: doc.digest,
    state: doc.state,
    size: doc.size,
    markedAt: doc.marked_at,
    ...(doc.claim_id == null ? {} : { claimId: doc.claim_id }),
    ...(doc.claimed_at == null ? {} : { claimedAt: doc.claimed_at }),
    ...(doc.deleted_at == null ? {} : { deletedAt: doc.deleted_at }),
  };
}

function dueFilter(due: GcDueFilter): Filter<GcCandidateDocument> {
  return {
    $or: [
      { state: 'pending', marked_at: { $lte: due.markedBefore } },
      { state: 'deleting', claimed_at: { $lt: due.staleClaimBefore } },
    ],
  };
}

const NO_ID = { projection: { _id: 0 } } as const;

/**
 * GC candidates in `gc_candidates`, with reference counts over
 * `cache_entries`. Each state change is one conditional single-document
 * write, which is all FerretDB guarantees to be atomic.
 */
export class MongoGcCandidateRepository implements GcCandidateRepository {
  readonly #candidates: Collection<GcCandidateDocument>;
  readonly #entries: Collection<CacheEntryDocument>;
  readonly #claims: Collection<GcClaimDocument>;

  constructor(db: Db) {
    this.#candidates = db.collection<GcCandidateDocument>(Collections.gcCandidates);
    this.#entries = db.collection<CacheEntryDocument>(Collections.cacheEntries);
    this.#claims = db.collection<GcClaimDocument>(Collections.gcClaims);
  }

  async listPendingDestruction(limit: number): Promise<DestroyedEntry[]> {
    const docs = await this.#entries
      .find({ status: 'pending_destruction' }, { projection: { _id: 0, upstream_id: 1, relative_path: 1, digest: 1, size: 1 } })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ upstreamId: String(d.upstream_id), relativePath: d.relative_path, digest: d.digest, size: d.size }));
  }

  async deletePendingEntry(upstreamId: string, relativePath: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    // Guarded by the status: a fill that revived the entry meanwhile keeps it.
    return (await this.#entries.deleteOne({ upstream_id: n, relative_path: relativePath, status: 'pending_destruction' })).deletedCount > 0;
  }

  async isReferenced(digest: string): Promise<boolean> {
    return (await this.#entries.findOne({ digest, status: 'default' }, { projection: { _id: 1 } })) !== null;
  }

  async mark(digest: string, size: number, at: Date): Promise<void> {
    const rearmed = await this.#candidates.updateOne(
      { digest, state: 'deleted' },
      { $set: { state: 'pending', size, marked_at: at }, $unset: { claim_id: '', claimed_at: '', deleted_at: '' } },
    );
    if (rearmed.matchedCount > 0) return;
    try {
      // Inserts only when absent: a pending candidate keeps its earlier mark, a deleting one its sweep.
      await this.#candidates.updateOne({ digest }, { $setOnInsert: { digest, state: 'pending', size, marked_at: at } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async get(digest: string): Promise<GcCandidate | undefined> {
    const doc = await this.#candidates.findOne({ digest }, NO_ID);
    return doc === null ? undefined : toCandidate(doc);
  }

  async listDue(due: GcDueFilter, limit: number): Promise<GcCandidate[]> {
    const docs = await this.#candidates.find(dueFilter(due), NO_ID).sort({ marked_at: 1, digest: 1 }).limit(limit).toArray();
    return docs.map(toCandidate);
  }

  /**
   * FerretDB applies a conditional update as read-then-write, so racing
   * sweeps could all "win" one. The claim is decided by a unique insert into
   * `gc_claims` instead, keyed by the candidate's generation (its mark, or the
   * stale claim being taken over): exactly one insert wins everywhere.
   */
  async claim(digest: string, claimId: string, at: Date, due: GcDueFilter): Promise<boolean> {
    const current = await this.#candidates.findOne({ digest, ...dueFilter(due) }, NO_ID);
    if (current === null) return false;
    const generation = current.state === 'pending' ? `marked:${current.marked_at.toISOString()}` : `taken-over:${current.claim_id ?? ''}`;
    try {
      await this.#claims.insertOne({ digest, generation, claim_id: claimId, claimed_at: at });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    const same: Filter<GcCandidateDocument> =
      current.state === 'pending'
        ? { digest, state: 'pending', marked_at: current.marked_at }
        : { digest, state: 'deleting', claim_id: current.claim_id === undefined ? { $exists: false } : current.claim_id };
    const result = await this.#candidates.updateOne(same, { $set: { state: 'deleting', claim_id: claimId, claimed_at: at } });
    return result.matchedCount > 0;
  }

  async release(digest: string, claimId: string): Promise<boolean> {
    return (await this.#candidates.deleteOne({ digest, state: 'deleting', claim_id: claimId })).deletedCount > 0;
  }

  async markDeleted(digest: string, claimId: string, at: Date): Promise<boolean> {
    const result = await this.#candidates.updateOne(
      { digest, state: 'deleting', claim_id: claimId },
      { $set: { state: 'deleted', deleted_at: at }, $unset: { claim_id: '', claimed_at: '' } },
    );
    return result.modifiedCount > 0;
  }

  async dropPending(digest: string): Promise<boolean> {
    return (await this.#candidates.deleteOne({ digest, state: 'pending' })).deletedCount > 0;
  }

  async purgeTombstones(before: Date): Promise<number> {
    // Claims only matter while their sweep runs; the tombstones' age is ample.
    await this.#claims.deleteMany({ claimed_at: { $lt: before } });
    return (await this.#candidates.deleteMany({ state: 'deleted', deleted_at: { $lt: before } })).deletedCount;
  }

  async retractEntry(key: { upstreamId: string; relativePath: string; digest: string; upstreamCheckedAt: Date }): Promise<boolean> {
    const upstreamId = parseNumericId(key.upstreamId);
    if (upstreamId === undefined) return false;
    const result = await this.#entries.deleteOne({
      upstream_id: upstreamId,
      relative_path: key.relativePath,
      digest: key.digest,
      upstream_checked_at: key.upstreamCheckedAt,
    });
    return result.deletedCount > 0;
  }
}
