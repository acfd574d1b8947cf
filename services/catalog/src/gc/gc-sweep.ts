import { randomUUID } from 'node:crypto';
import type { BlobStore } from '@vreg/blob-store';
import type { Logger } from '@vreg/logging';
import { GC_CLAIM_TTL_MS, GC_TOMBSTONE_RETENTION_MS, type GcCandidate } from '../domain/gc-candidate.ts';
import type { GcCandidateRepository, GcDueFilter } from '../ports/gc-candidate-repository.ts';

/**
 * The GC protocol: how an object is deleted while fills of the same digest
 * may be running on other replicas, without ever leaving a live cache entry
 * whose object is gone.
 *
 * 1. The destruction worker deletes `pending_destruction` entry rows; each
 *    digest no live entry references any more becomes a `pending` candidate.
 * 2. The sweep takes a candidate past the grace period and, in this order:
 *    a. claims it: `pending` → `deleting` (one conditional write; one sweep wins);
 *    b. re-checks, AFTER the claim is visible, that no live entry references
 *       the digest; if one does, it releases the claim and keeps the object;
 *    c. deletes the object;
 *    d. turns the candidate into a `deleted` tombstone (kept a day).
 * 3. The `object.stored` consumer, recording a fill of the digest:
 *    a. reads the candidate: `deleting` → retry later (nak); `deleted` →
 *       stat the object: gone → do not record, publish `fetch.requested` so
 *       the fetcher fills it again;
 *    b. upserts the entry;
 *    c. reads the candidate AGAIN, after its entry is visible: `pending` →
 *       drops it; `deleting`/`deleted` (a sweep claimed meanwhile) → takes
 *       its entry back and retries later (the retry lands in 3a).
 *
 * Why it holds: the sweep writes (claim) then reads (references); the
 * consumer writes (entry) then reads (candidate). Of two such sequences, at
 * least one read sees the other's write. Either the sweep's 2b sees the
 * entry and keeps the object, or the consumer's 3c sees the claim and takes
 * its entry back before anything serves it for long. A claim whose sweep
 * died is taken over after `GC_CLAIM_TTL_MS` by the next sweep, which
 * checks references again.
 *
 * Only candidates are swept, never the whole bucket: an object that became
 * unreferenced without passing through the destruction worker (e.g. a crash
 * of an older vreg, an upstream deleted with its entries) is not found.
 */
export type GcSweepStep = 'claimed' | 'checked' | 'deleted';

export interface GcSweepDeps {
  candidates: GcCandidateRepository;
  blobs: Pick<BlobStore, 'delete'>;
  logger: Logger;
  /** Milliseconds a candidate waits before its object may be deleted. */
  graceMs: number;
  /** Candidates read per round trip. Default 100. */
  batchSize?: number;
  now?: () => Date;
  /** Test seam: awaited after each step for each digest, so a test can interleave a fill deterministically. */
  onStep?: (step: GcSweepStep, digest: string) => Promise<void>;
}

/** What a sweep did, or would do (dry run). */
export interface GcReport {
  dryRun: boolean;
  /** Objects deleted (or that would be). */
  objects: number;
  /** Bytes freed (or that would be), from the sizes the entries recorded. */
  bytes: number;
  /** The first 100 digests deleted (or that would be). */
  digests: string[];
  /** The first 100 objects whose delete failed (`digest: message`); their claims are taken over once stale. */
  errors: string[];
  /** How many deletes failed in all (with S3 away, every candidate does). */
  failed: number;
}

/** Most digests a report lists. */
const REPORT_DIGESTS = 100;
/** Most error messages a report keeps: a job shows no more (MAX_JOB_ERRORS), and an S3 outage fails every candidate. */
const REPORT_ERRORS = 100;
/** Most candidates one dry run looks at. */
const DRY_RUN_LIMIT = 10_000;

/** Progress callback: called after each candidate with the running totals. */
export type GcProgress = (report: Readonly<GcReport>) => Promise<void> | void;

/** Deletes the objects of due, still-unreferenced candidates (see the protocol above). */
export class GcSweep {
  readonly #deps: GcSweepDeps;
  readonly #log: Logger;

  constructor(deps: GcSweepDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'gc-sweep' });
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  #due(now: Date): GcDueFilter {
    return { markedBefore: new Date(now.getTime() - this.#deps.graceMs), staleClaimBefore: new Date(now.getTime() - GC_CLAIM_TTL_MS) };
  }

  /** One sweep over every due candidate. */
  async sweep(onProgress?: GcProgress): Promise<GcReport> {
    const report: GcReport = { dryRun: false, objects: 0, bytes: 0, digests: [], errors: [], failed: 0 };
    const claimId = randomUUID();
    const seen = new Set<string>();
    const due = this.#due(this.#now());
    for (;;) {
      const batch = (await this.#deps.candidates.listDue(due, this.#deps.batchSize ?? 100)).filter((c) => !seen.has(c.digest));
      // Every candidate handled leaves the due set; one still listed failed to and waits for the next run.
      if (batch.length === 0) break;
      for (const candidate of batch) {
        seen.add(candidate.digest);
        await this.#collect(candidate, claimId, due, report);
        await onProgress?.(report);
      }
    }
    await this.#deps.candidates.purgeTombstones(new Date(this.#now().getTime() - GC_TOMBSTONE_RETENTION_MS));
    if (report.objects > 0 || report.failed > 0)
      this.#log.info({ objects: report.objects, bytes: report.bytes, errors: report.failed }, 'gc sweep deleted objects');
    return report;
  }

  async #collect(candidate: GcCandidate, claimId: string, due: GcDueFilter, report: GcReport): Promise<void> {
    const { candidates, blobs, onStep } = this.#deps;
    const digest = candidate.digest;
    if (!(await candidates.claim(digest, claimId, this.#now(), due))) return;
    await onStep?.('claimed', digest);
    // The claim is visible now: a fill recorded from here on sees it (protocol 3c); one recorded before is seen here.
    if (await candidates.isReferenced(digest)) {
      await candidates.release(digest, claimId);
      this.#log.debug({ digest }, 'gc candidate referenced again: object kept');
      return;
    }
    await onStep?.('checked', digest);
    try {
      await blobs.delete(digest);
    } catch (err) {
      // Left `deleting`: whether the object is gone is unknown; a later sweep takes the stale claim over.
      report.failed += 1;
      if (report.errors.length < REPORT_ERRORS) report.errors.push(`${digest}: ${(err as Error).message}`);
      this.#log.warn({ digest, err }, 'gc could not delete an object');
      return;
    }
    await onStep?.('deleted', digest);
    await candidates.markDeleted(digest, claimId, this.#now());
    report.objects += 1;
    report.bytes += candidate.size;
    if (report.digests.length < REPORT_DIGESTS) report.digests.push(digest);
  }

  /**
   * What a sweep run now would delete, changing nothing: due candidates no
   * live entry references, and (with no grace period) the digests of
   * `pending_destruction` entries the destruction pass would make candidates.
   */
  async plan(): Promise<GcReport> {
    const report: GcReport = { dryRun: true, objects: 0, bytes: 0, digests: [], errors: [], failed: 0 };
    const counted = new Set<string>();
    const consider = async (digest: string, size: number): Promise<void> => {
      if (counted.has(digest) || (await this.#deps.candidates.isReferenced(digest))) return;
      counted.add(digest);
      report.objects += 1;
      report.bytes += size;
      if (report.digests.length < REPORT_DIGESTS) report.digests.push(digest);
    };
    for (const c of await this.#deps.candidates.listDue(this.#due(this.#now()), DRY_RUN_LIMIT)) await consider(c.digest, c.size);
    if (this.#deps.graceMs === 0) {
      for (const e of await this.#deps.candidates.listPendingDestruction(DRY_RUN_LIMIT)) await consider(e.digest, e.size);
    }
    return report;
  }
}
