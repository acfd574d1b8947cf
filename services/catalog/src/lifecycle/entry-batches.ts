import {
  type ActivityCursor,
  activityCursorOf,
  type CacheEntry,
  type CacheEntryKey,
  type CacheEntrySelector,
} from '../domain/cache-entry.ts';
import type { CacheEntryRepository } from '../ports/cache-entry-repository.ts';

/** Entries a sweep reads per query: its memory stays bounded by this, whatever the registry's size. */
export const SWEEP_BATCH = 500;

/** The entries matching the selector, a batch at a time in (relativePath, upstreamId) order; only one batch is held. */
export async function* pagesOf(
  entries: CacheEntryRepository,
  selector: CacheEntrySelector,
  batchSize: number = SWEEP_BATCH,
): AsyncGenerator<CacheEntry[]> {
  let after: CacheEntryKey | undefined;
  for (;;) {
    const batch = await entries.findPage(selector, after, batchSize);
    if (batch.length === 0) return;
    yield batch;
    if (batch.length < batchSize) return;
    const last = batch[batch.length - 1]!;
    after = { upstreamId: last.upstreamId, relativePath: last.relativePath };
  }
}

/** The registry's live entries least recently active first (before `before` when given), a batch at a time. */
export async function* activityPagesOf(
  entries: CacheEntryRepository,
  registryId: string,
  options: { before?: Date; batchSize?: number } = {},
): AsyncGenerator<CacheEntry[]> {
  const limit = options.batchSize ?? SWEEP_BATCH;
  let after: ActivityCursor | undefined;
  for (;;) {
    const batch = await entries.findByLeastRecentActivity({
      registryId,
      limit,
      ...(options.before === undefined ? {} : { before: options.before }),
      ...(after === undefined ? {} : { after }),
    });
    if (batch.length === 0) return;
    yield batch;
    if (batch.length < limit) return;
    after = activityCursorOf(batch[batch.length - 1]!);
  }
}

/** The batches of several sweeps, one after the other. */
export async function* concatPages(...sources: AsyncIterable<CacheEntry[]>[]): AsyncGenerator<CacheEntry[]> {
  for (const source of sources) yield* source;
}
