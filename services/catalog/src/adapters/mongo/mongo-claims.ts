import type { Collection, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { isDuplicateKey } from './mongo-documents.ts';

/**
 * Age past which a claim whose work has still not started is taken for
 * abandoned: its replica died (or lost the database) between inserting the
 * claim and recording the start, and without a takeover the work would wait
 * for ever.
 */
export const ABANDONED_CLAIM_MS = 60_000;

/**
 * Takes a claim by inserting `claim` into a collection with a unique index
 * on the fields of `key`: FerretDB applies conditional updates as
 * read-modify-write, while exactly one unique insert wins everywhere. Call
 * it only for work that is still pending (a queued job, a due run): then a
 * claim of the same key older than ABANDONED_CLAIM_MS is abandoned and taken
 * over (of racing takeovers, one delete wins).
 * @returns whether this caller holds the claim
 */
export async function takeClaim<T extends { claimed_at: Date }>(claims: Collection<T>, key: Filter<T>, claim: T): Promise<boolean> {
  if (await insertClaim(claims, claim)) return true;
  const staleBefore = new Date(claim.claimed_at.getTime() - ABANDONED_CLAIM_MS);
  const stale = await claims.deleteOne({ ...key, claimed_at: { $lt: staleBefore } } as Filter<T>);
  return stale.deletedCount === 1 && (await insertClaim(claims, claim));
}

async function insertClaim<T extends { claimed_at: Date }>(claims: Collection<T>, claim: T): Promise<boolean> {
  try {
    await claims.insertOne({ ...claim } as OptionalUnlessRequiredId<T>);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
