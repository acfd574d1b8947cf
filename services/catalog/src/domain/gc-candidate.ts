/**
 * Garbage collection of stored objects. Storage is content-addressed and
 * shared by every registry, so an object may go only when no live
 * (`default`) cache entry of any upstream references its digest any more.
 * A digest that lost its last reference becomes a *candidate*; the sweep
 * deletes its object after a grace period, unless a fill referenced it again.
 *
 * A candidate moves `pending` → `deleting` (claimed by one sweep) →
 * `deleted` (a tombstone, kept for `GC_TOMBSTONE_RETENTION_MS` so that a fill
 * recorded while the object was being deleted notices and re-fetches it).
 * See `gc/gc-sweep.ts` for the whole protocol.
 */
export const GcCandidateStates = {
  pending: 'pending',
  deleting: 'deleting',
  deleted: 'deleted',
} as const;
export type GcCandidateState = (typeof GcCandidateStates)[keyof typeof GcCandidateStates];

export interface GcCandidate {
  readonly digest: string;
  readonly state: GcCandidateState;
  /** Bytes of the object, as the destroyed entries recorded it. */
  readonly size: number;
  /** When the digest lost its last live reference: the grace period runs from here. */
  readonly markedAt: Date;
  /** The sweep run holding the claim while `deleting`. */
  readonly claimId?: string;
  /** When the claim was taken; a claim older than `GC_CLAIM_TTL_MS` belongs to a dead sweep and may be taken over. */
  readonly claimedAt?: Date;
  /** When the object was deleted (`deleted` only). */
  readonly deletedAt?: Date;
}

/** One destroyed cache entry row: what it referenced. */
export interface DestroyedEntry {
  readonly upstreamId: string;
  readonly relativePath: string;
  readonly digest: string;
  /** Bytes. */
  readonly size: number;
}

/** A claim older than this (ms) was left by a sweep that died between claim and delete: another sweep may finish it. */
export const GC_CLAIM_TTL_MS = 10 * 60_000;

/**
 * How long (ms) a `deleted` tombstone is kept. It must outlast the longest
 * delay between a fill storing an object and the catalog consuming its
 * `object.stored` event; a day is far beyond the bus's retry budget.
 */
export const GC_TOMBSTONE_RETENTION_MS = 24 * 3_600_000;
