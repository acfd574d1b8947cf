import type { CacheEntry } from '../domain/cache-entry.ts';
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
 * Marks `targets` `pending_destruction`, reporting progress on the job.
 * Entries already marked (by a racing purge, cleanup or quota) are not
 * counted twice: only the marks this call made count.
 */
export async function markEntries(entries: CacheEntryRepository, targets: readonly CacheEntry[], reporter?: JobReporter): Promise<MarkOutcome> {
  const outcome: MarkOutcome = { entries: 0, bytes: 0 };
  await reporter?.progress({ objectsTotal: targets.length, bytesTotal: targets.reduce((sum, e) => sum + e.size, 0), objectsDone: 0, bytesDone: 0 });
  let seen = 0;
  let seenBytes = 0;
  for (const entry of targets) {
    if (await entries.markPendingDestruction(entry.upstreamId, entry.relativePath)) {
      outcome.entries += 1;
      outcome.bytes += entry.size;
    }
    seen += 1;
    seenBytes += entry.size;
    if (seen % PROGRESS_EVERY === 0) await reporter?.progress({ objectsDone: seen, bytesDone: seenBytes });
  }
  await reporter?.progress({ objectsDone: seen, bytesDone: seenBytes });
  return outcome;
}
