import type { DestroyedEntry, GcCandidate } from '../domain/gc-candidate.ts';

/**
 * The `gc_candidates` collection/table, and the reference counting over
 * `cache_entries` that GC decides on. It reads and deletes cache entry rows
 * directly: counting references is its one job, and the cache-entry
 * repository stays about serving.
 *
 * Every write is a single-row (single-document) conditional write, so the
 * state machine `pending → deleting → deleted` holds across catalog replicas
 * without transactions.
 */
export interface GcCandidateRepository {
  /**
   * Up to `limit` cache entry rows with status `pending_destruction`: what
   * each references. The destruction worker marks their digests before it
   * deletes the rows, so a crash in between loses no candidate.
   */
  listPendingDestruction(limit: number): Promise<DestroyedEntry[]>;

  /** Deletes the row if it is still `pending_destruction` (a fill may have revived it to `default`); true when deleted. */
  deletePendingEntry(upstreamId: string, relativePath: string): Promise<boolean>;

  /** True when a `default` cache entry of any upstream references `digest`. */
  isReferenced(digest: string): Promise<boolean>;

  /**
   * Makes `digest` a `pending` candidate marked at `at`. A `deleted`
   * tombstone becomes pending again; an existing `pending` candidate keeps
   * its earlier mark; a `deleting` one is left to its sweep.
   */
  mark(digest: string, size: number, at: Date): Promise<void>;

  /** The candidate for `digest`, whatever its state, or undefined. */
  get(digest: string): Promise<GcCandidate | undefined>;

  /**
   * Candidates a sweep may claim, oldest mark first, at most `limit`:
   * `pending` ones marked at or before `markedBefore`, and `deleting` ones
   * claimed before `staleClaimBefore` (their sweep died).
   */
  listDue(due: GcDueFilter, limit: number): Promise<GcCandidate[]>;

  /**
   * Moves a due candidate (see `listDue`) to `deleting` with this claim.
   * Atomic: of sweeps racing for one digest, exactly one gets true.
   */
  claim(digest: string, claimId: string, at: Date, due: GcDueFilter): Promise<boolean>;

  /** Removes the candidate if it still holds `claimId` (the object stays: it is referenced again). */
  release(digest: string, claimId: string): Promise<boolean>;

  /** Turns the claimed candidate into a `deleted` tombstone at `at`; false when the claim is no longer ours. */
  markDeleted(digest: string, claimId: string, at: Date): Promise<boolean>;

  /** Removes the candidate if it is `pending`: a fill referenced the digest again. */
  dropPending(digest: string): Promise<boolean>;

  /** Removes tombstones deleted before `before`; resolves to how many. */
  purgeTombstones(before: Date): Promise<number>;

  /**
   * Deletes the cache entry row (upstreamId, relativePath) only if it still
   * holds `digest` checked at `upstreamCheckedAt`, i.e. exactly what one
   * `object.stored` event wrote. Used to take back a record that raced a
   * sweep; a newer write is never touched.
   */
  retractEntry(key: { upstreamId: string; relativePath: string; digest: string; upstreamCheckedAt: Date }): Promise<boolean>;
}

/** Which candidates are due for a sweep. */
export interface GcDueFilter {
  /** `pending` candidates marked at or before this are due (now − grace). */
  markedBefore: Date;
  /** `deleting` candidates claimed before this are abandoned and due again (now − claim TTL). */
  staleClaimBefore: Date;
}
