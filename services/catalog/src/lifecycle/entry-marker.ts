import type { CacheEntry, EntryTotals } from '../domain/cache-entry.ts';
import type { CacheEntryRepository } from '../ports/cache-entry-repository.ts';
import type { JobReporter } from './job-worker.ts';

/** What marking did: entries this run moved to `pending_destruction` and their bytes. */
export interface MarkOutcome {
  entries: number;
  bytes: number;
}

/** Entries between two progress writes: progress stays fresh without a write per entry. */
const PROGRESS_EVERY = 50;

/**
 * Marks the entries of `batches` `pending_destruction`, reporting progress
 * on the job against `totals` (measured beforehand by the store). Only one
 * batch is held at a time. Entries already marked (by a racing purge,
 * cleanup or quota) are not counted twice: only the marks this call made
 * count.
 */
export async function markEntries(
  entries: CacheEntryRepository,
  batches: AsyncIterable<readonly CacheEntry[]>,
  totals: EntryTotals,
  reporter?: JobReporter,
): Promise<MarkOutcome> {
  const outcome: MarkOutcome = { entries: 0, bytes: 0 };
  await reporter?.progress({ objectsTotal: totals.entries, bytesTotal: totals.bytes, objectsDone: 0, bytesDone: 0 });
  let seen = 0;
  let seenBytes = 0;
  for await (const batch of batches) {
    for (const entry of batch) {
      if (await entries.markPendingDestruction(entry.upstreamId, entry.relativePath)) {
        outcome.entries += 1;
        outcome.bytes += entry.size;
      }
      seen += 1;
      seenBytes += entry.size;
      if (seen % PROGRESS_EVERY === 0) await reporter?.progress({ objectsDone: seen, bytesDone: seenBytes });
    }
  }
  await reporter?.progress({ objectsDone: seen, bytesDone: seenBytes });
  return outcome;
}
