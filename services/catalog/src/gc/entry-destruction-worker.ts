import type { Logger } from '@vreg/logging';
import type { GcCandidateRepository } from '../ports/gc-candidate-repository.ts';

export interface EntryDestructionDeps {
  candidates: GcCandidateRepository;
  logger: Logger;
  /** Rows read per batch. Default 500. */
  batchSize?: number;
  /** Batches per run at most, so one run stays bounded. Default 200. */
  maxBatches?: number;
  now?: () => Date;
}

/** What one destruction pass did. */
export interface DestructionReport {
  /** Entry rows deleted. */
  entries: number;
  /** Bytes those rows recorded. */
  bytes: number;
  /** Digests that lost their last live reference and became GC candidates. */
  candidates: number;
}

/**
 * Step 1 of GC (see gc-sweep.ts): deletes the rows purge, cleanup and
 * quotas marked `pending_destruction`, and makes each digest that no live
 * entry references any more a GC candidate. The candidate is marked before
 * the row goes, so a crash in between leaves a row to redo, never an object
 * nobody will collect.
 */
export class EntryDestructionWorker {
  readonly #deps: EntryDestructionDeps;
  readonly #log: Logger;

  constructor(deps: EntryDestructionDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'entry-destruction' });
  }

  /** Destroys pending rows until none is left (or `maxBatches` ran). */
  async runOnce(): Promise<DestructionReport> {
    const { candidates } = this.#deps;
    const batchSize = this.#deps.batchSize ?? 500;
    const report: DestructionReport = { entries: 0, bytes: 0, candidates: 0 };
    for (let i = 0; i < (this.#deps.maxBatches ?? 200); i++) {
      const rows = await candidates.listPendingDestruction(batchSize);
      if (rows.length === 0) break;
      const sizes = new Map<string, number>();
      for (const r of rows) sizes.set(r.digest, r.size);
      const at = this.#deps.now?.() ?? new Date();
      for (const [digest, size] of sizes) {
        // A digest still live elsewhere needs no candidate: its last entry's destruction will mark it.
        // The other rows of this batch are still pending, not live, so they do not count.
        if (await candidates.isReferenced(digest)) continue;
        await candidates.mark(digest, size, at);
        report.candidates += 1;
      }
      for (const r of rows) {
        if (await candidates.deletePendingEntry(r.upstreamId, r.relativePath)) {
          report.entries += 1;
          report.bytes += r.size;
        }
      }
      if (rows.length < batchSize) break;
    }
    if (report.entries > 0) this.#log.info({ ...report }, 'pending cache entries destroyed');
    return report;
  }
}
