import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntryWrite } from '../../domain/cache-entry.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { GcDueFilter } from '../../ports/gc-candidate-repository.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const T0 = new Date('2025-06-01T00:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

/** A store under test, and a way to mark an entry `pending_destruction` as purge/cleanup do. */
export interface GcStoreUnderTest {
  store: CatalogStore;
  markPending(upstreamId: string, relativePath: string): Promise<void>;
}

/**
 * The contract of `GcCandidateRepository`, run against the memory and
 * SQLite stores in unit tests and a MongoDB-wire server in integration tests.
 */
export function describeGcCandidateRepository(label: string, open: () => Promise<GcStoreUnderTest>): void {
  describe(`${label} honours the GcCandidateRepository contract`, () => {
    let t: GcStoreUnderTest;
    beforeEach(async () => {
      t = await open();
    });
    afterEach(async () => {
      await t.store.close();
    });
    const gc = () => t.store.gcCandidates;
    const write = (upstreamId: string, relativePath: string, digest: string, extra: Partial<CacheEntryWrite> = {}): CacheEntryWrite => ({
      upstreamId,
      registryId: '1',
      relativePath,
      digest,
      contentType: 'application/octet-stream',
      size: 100,
      upstreamCheckedAt: T0,
      ...extra,
    });
    /** Due with no grace period and a 10-minute claim TTL. */
    const due = (now: Date): GcDueFilter => ({ markedBefore: now, staleClaimBefore: new Date(now.getTime() - 10 * 60_000) });

    it('counts only default entries of any upstream as references', async () => {
      await t.store.cacheEntries.upsert(write('1', 'a/blobs/' + D1, D1));
      await t.store.cacheEntries.upsert(write('2', 'b/blobs/' + D1, D1));
      expect(await gc().isReferenced(D1)).toBe(true);
      await t.markPending('1', 'a/blobs/' + D1);
      expect(await gc().isReferenced(D1)).toBe(true);
      await t.markPending('2', 'b/blobs/' + D1);
      expect(await gc().isReferenced(D1)).toBe(false);
      expect(await gc().isReferenced(D2)).toBe(false);
    });

    it('lists pending_destruction rows with what they reference, and deletes only rows still pending', async () => {
      await t.store.cacheEntries.upsert(write('1', 'a/blobs/' + D1, D1, { size: 11 }));
      await t.store.cacheEntries.upsert(write('1', 'a/blobs/' + D2, D2, { size: 22 }));
      await t.store.cacheEntries.upsert(write('1', 'a/blobs/' + D3, D3, { size: 33 }));
      await t.markPending('1', 'a/blobs/' + D1);
      await t.markPending('1', 'a/blobs/' + D2);
      expect(await gc().listPendingDestruction(1)).toHaveLength(1);
      const pending = await gc().listPendingDestruction(10);
      expect(pending.map((d) => `${d.upstreamId} ${d.relativePath} ${d.digest} ${d.size}`).sort()).toEqual([
        `1 a/blobs/${D1} ${D1} 11`,
        `1 a/blobs/${D2} ${D2} 22`,
      ]);
      // A fill revives D2's entry (newer check) before the worker gets to it: the row stays.
      await t.store.cacheEntries.upsert(write('1', 'a/blobs/' + D2, D2, { size: 22, upstreamCheckedAt: at(1) }));
      expect(await gc().deletePendingEntry('1', 'a/blobs/' + D1)).toBe(true);
      expect(await gc().deletePendingEntry('1', 'a/blobs/' + D2)).toBe(false);
      expect(await gc().deletePendingEntry('1', 'a/blobs/' + D3)).toBe(false);
      expect(await gc().deletePendingEntry('1', 'a/blobs/nothing')).toBe(false);
      expect(await gc().listPendingDestruction(10)).toEqual([]);
      expect(await t.store.cacheEntries.countByUpstream('1')).toBe(2);
      expect(await t.store.cacheEntries.findFirst(['1'], 'a/blobs/' + D2)).toMatchObject({ status: 'default' });
    });

    it('marks a candidate pending and keeps its first mark when marked again', async () => {
      await gc().mark(D1, 10, at(0));
      await gc().mark(D1, 10, at(5));
      expect(await gc().get(D1)).toMatchObject({ digest: D1, state: 'pending', size: 10, markedAt: at(0) });
      expect(await gc().get(D2)).toBeUndefined();
    });

    it('lists due candidates after the grace period, oldest first', async () => {
      await gc().mark(D2, 2, at(1));
      await gc().mark(D1, 1, at(0));
      await gc().mark(D3, 3, at(30));
      const list = await gc().listDue({ markedBefore: at(10), staleClaimBefore: at(-100) }, 10);
      expect(list.map((c) => c.digest)).toEqual([D1, D2]);
      expect(await gc().listDue({ markedBefore: at(10), staleClaimBefore: at(-100) }, 1)).toHaveLength(1);
    });

    it('lets exactly one of racing sweeps claim a candidate', async () => {
      await gc().mark(D1, 1, at(0));
      const filter = due(at(1));
      const wins = await Promise.all(['a', 'b', 'c', 'd'].map((id) => gc().claim(D1, id, at(1), filter)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      const claimed = await gc().get(D1);
      expect(claimed).toMatchObject({ state: 'deleting', claimedAt: at(1) });
      expect(['a', 'b', 'c', 'd'][wins.indexOf(true)]).toBe(claimed?.claimId);
    });

    it('does not claim a candidate inside its grace period', async () => {
      await gc().mark(D1, 1, at(0));
      expect(await gc().claim(D1, 'x', at(1), { markedBefore: at(-59), staleClaimBefore: at(-9) })).toBe(false);
      expect(await gc().get(D1)).toMatchObject({ state: 'pending' });
    });

    it('lets another sweep take over a claim left stale by a dead sweep, but not a fresh one', async () => {
      await gc().mark(D1, 1, at(0));
      expect(await gc().claim(D1, 'dead', at(1), due(at(1)))).toBe(true);
      expect(await gc().claim(D1, 'other', at(5), due(at(5)))).toBe(false);
      expect((await gc().listDue(due(at(5)), 10)).map((c) => c.digest)).toEqual([]);
      expect((await gc().listDue(due(at(20)), 10)).map((c) => c.digest)).toEqual([D1]);
      expect(await gc().claim(D1, 'other', at(20), due(at(20)))).toBe(true);
      expect(await gc().markDeleted(D1, 'dead', at(21))).toBe(false);
      expect(await gc().markDeleted(D1, 'other', at(21))).toBe(true);
    });

    it('releases a claim only for its holder', async () => {
      await gc().mark(D1, 1, at(0));
      await gc().claim(D1, 'mine', at(1), due(at(1)));
      expect(await gc().release(D1, 'theirs')).toBe(false);
      expect(await gc().release(D1, 'mine')).toBe(true);
      expect(await gc().get(D1)).toBeUndefined();
    });

    it('keeps a deleted tombstone, re-arms it when the digest is marked again, and purges old ones', async () => {
      await gc().mark(D1, 1, at(0));
      await gc().claim(D1, 'c', at(1), due(at(1)));
      expect(await gc().markDeleted(D1, 'c', at(2))).toBe(true);
      expect(await gc().get(D1)).toMatchObject({ state: 'deleted', deletedAt: at(2) });
      expect(await gc().listDue(due(at(100)), 10)).toEqual([]);
      await gc().mark(D1, 5, at(50));
      expect(await gc().get(D1)).toMatchObject({ state: 'pending', size: 5, markedAt: at(50) });
      await gc().claim(D1, 'c2', at(51), due(at(51)));
      await gc().markDeleted(D1, 'c2', at(52));
      expect(await gc().purgeTombstones(at(52))).toBe(0);
      expect(await gc().purgeTombstones(at(53))).toBe(1);
      expect(await gc().get(D1)).toBeUndefined();
    });

    it('leaves a deleting candidate to its sweep when the digest is marked again', async () => {
      await gc().mark(D1, 1, at(0));
      await gc().claim(D1, 'c', at(1), due(at(1)));
      await gc().mark(D1, 1, at(2));
      expect(await gc().get(D1)).toMatchObject({ state: 'deleting', claimId: 'c' });
    });

    it('drops only pending candidates', async () => {
      await gc().mark(D1, 1, at(0));
      await gc().mark(D2, 1, at(0));
      await gc().claim(D2, 'c', at(1), due(at(1)));
      expect(await gc().dropPending(D1)).toBe(true);
      expect(await gc().dropPending(D2)).toBe(false);
      expect(await gc().get(D1)).toBeUndefined();
      expect(await gc().get(D2)).toMatchObject({ state: 'deleting' });
    });

    it('retracts an entry only while it holds exactly the retracted facts', async () => {
      const path = 'lib/manifests/latest';
      await t.store.cacheEntries.upsert(write('1', path, D1, { upstreamCheckedAt: at(0) }));
      expect(await gc().retractEntry({ upstreamId: '1', relativePath: path, digest: D1, upstreamCheckedAt: at(1) })).toBe(false);
      expect(await gc().retractEntry({ upstreamId: '1', relativePath: path, digest: D2, upstreamCheckedAt: at(0) })).toBe(false);
      expect(await t.store.cacheEntries.countByUpstream('1')).toBe(1);
      expect(await gc().retractEntry({ upstreamId: '1', relativePath: path, digest: D1, upstreamCheckedAt: at(0) })).toBe(true);
      expect(await t.store.cacheEntries.countByUpstream('1')).toBe(0);
    });
  });
}
