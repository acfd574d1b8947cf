import type { CacheEntry } from '../../domain/cache-entry.ts';
import type { DestroyedEntry, GcCandidate } from '../../domain/gc-candidate.ts';
import type { GcCandidateRepository, GcDueFilter } from '../../ports/gc-candidate-repository.ts';

/** The memory store's cache entry rows, keyed by (upstream, relative path). */
export interface MemoryEntryRows {
  rows(): Map<string, CacheEntry>;
}

function isDue(c: GcCandidate, due: GcDueFilter): boolean {
  if (c.state === 'pending') return c.markedAt.getTime() <= due.markedBefore.getTime();
  return c.state === 'deleting' && c.claimedAt !== undefined && c.claimedAt.getTime() < due.staleClaimBefore.getTime();
}

/** GC candidates in process memory, over the memory store's cache entries; for unit tests. */
export class MemoryGcCandidateRepository implements GcCandidateRepository {
  readonly #entries: MemoryEntryRows;
  readonly #rows = new Map<string, GcCandidate>();

  constructor(entries: MemoryEntryRows) {
    this.#entries = entries;
  }

  async listPendingDestruction(limit: number): Promise<DestroyedEntry[]> {
    const out: DestroyedEntry[] = [];
    for (const e of this.#entries.rows().values()) {
      if (out.length >= limit) break;
      if (e.status === 'pending_destruction')
        out.push({ upstreamId: e.upstreamId, relativePath: e.relativePath, digest: e.digest, size: e.size });
    }
    return out;
  }

  async deletePendingEntry(upstreamId: string, relativePath: string): Promise<boolean> {
    for (const [key, e] of this.#entries.rows()) {
      if (e.upstreamId === upstreamId && e.relativePath === relativePath)
        return e.status === 'pending_destruction' && this.#entries.rows().delete(key);
    }
    return false;
  }

  async isReferenced(digest: string): Promise<boolean> {
    for (const e of this.#entries.rows().values()) if (e.digest === digest && e.status === 'default') return true;
    return false;
  }

  async mark(digest: string, size: number, at: Date): Promise<void> {
    const current = this.#rows.get(digest);
    if (current !== undefined && current.state !== 'deleted') return;
    this.#rows.set(digest, { digest, state: 'pending', size, markedAt: new Date(at) });
  }

  async get(digest: string): Promise<GcCandidate | undefined> {
    return this.#rows.get(digest);
  }

  async listDue(due: GcDueFilter, limit: number): Promise<GcCandidate[]> {
    return [...this.#rows.values()]
      .filter((c) => isDue(c, due))
      .sort((a, b) => a.markedAt.getTime() - b.markedAt.getTime())
      .slice(0, limit);
  }

  async claim(digest: string, claimId: string, at: Date, due: GcDueFilter): Promise<boolean> {
    const current = this.#rows.get(digest);
    if (current === undefined || !isDue(current, due)) return false;
    this.#rows.set(digest, { digest, state: 'deleting', size: current.size, markedAt: current.markedAt, claimId, claimedAt: new Date(at) });
    return true;
  }

  async release(digest: string, claimId: string): Promise<boolean> {
    const current = this.#rows.get(digest);
    if (current?.state !== 'deleting' || current.claimId !== claimId) return false;
    return this.#rows.delete(digest);
  }

  async markDeleted(digest: string, claimId: string, at: Date): Promise<boolean> {
    const current = this.#rows.get(digest);
    if (current?.state !== 'deleting' || current.claimId !== claimId) return false;
    this.#rows.set(digest, { digest, state: 'deleted', size: current.size, markedAt: current.markedAt, deletedAt: new Date(at) });
    return true;
  }

  async dropPending(digest: string): Promise<boolean> {
    if (this.#rows.get(digest)?.state !== 'pending') return false;
    return this.#rows.delete(digest);
  }

  async purgeTombstones(before: Date): Promise<number> {
    let n = 0;
    for (const [digest, c] of this.#rows) {
      if (c.state === 'deleted' && c.deletedAt !== undefined && c.deletedAt.getTime() < before.getTime()) {
        this.#rows.delete(digest);
        n += 1;
      }
    }
    return n;
  }

  async retractEntry(key: { upstreamId: string; relativePath: string; digest: string; upstreamCheckedAt: Date }): Promise<boolean> {
    for (const [k, e] of this.#entries.rows()) {
      if (e.upstreamId === key.upstreamId && e.relativePath === key.relativePath) {
        if (e.digest !== key.digest || e.upstreamCheckedAt.getTime() !== key.upstreamCheckedAt.getTime()) return false;
        return this.#entries.rows().delete(k);
      }
    }
    return false;
  }
}
