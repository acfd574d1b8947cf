import { describe, expect, it } from 'vitest';
import type { CacheEntryWrite } from '../../domain/cache-entry.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';

const CHECKED = new Date('2025-03-01T10:00:00.000Z');

/** Lifecycle part of the `CatalogStore` contract: registry-wide entry queries, marking for destruction, registry quotas. */
export function describeCacheEntryLifecycle(store: () => CatalogStore): void {
  const write = (
    upstreamId: string,
    registryId: string,
    relativePath: string,
    size: number,
    digest = `sha256:${'a'.repeat(64)}`,
  ): CacheEntryWrite => ({
    upstreamId,
    registryId,
    relativePath,
    digest,
    contentType: 'application/octet-stream',
    size,
    upstreamCheckedAt: CHECKED,
  });
  const entries = () => store().cacheEntries;

  /** Registry 1 with upstreams 1 and 2, registry 2 with upstream 3. */
  async function seed(): Promise<void> {
    await entries().upsert(write('1', '1', 'library/alpine/manifests/3.20', 300));
    await entries().upsert(write('1', '1', 'library/alpine/blobs/sha256:aa', 1000));
    await entries().upsert(write('2', '1', 'library/busybox/manifests/latest', 200));
    await entries().upsert(write('2', '1', 'team_x/app/blobs/sha256:bb', 50));
    await entries().upsert(write('3', '2', 'library/alpine/manifests/3.20', 999));
    await entries().recordDownloads('1', 'library/alpine/blobs/sha256:aa', 1, new Date('2025-04-02T00:00:00.000Z'));
    await entries().recordDownloads('2', 'library/busybox/manifests/latest', 1, new Date('2025-04-01T00:00:00.000Z'));
  }

  describe('cache entries across a registry', () => {
    it('gets one entry by its key, any status', async () => {
      await seed();
      expect(await entries().get('1', 'library/alpine/manifests/3.20')).toMatchObject({ size: 300, registryId: '1' });
      expect(await entries().get('1', 'nope/manifests/x')).toBeUndefined();
      expect(await entries().get('x', 'library/alpine/manifests/3.20')).toBeUndefined();
    });

    it('lists the registry entries sorted by each field, both ways, a page at a time', async () => {
      await seed();
      const list = async (sort: Parameters<ReturnType<typeof entries>['listByRegistry']>[1]['sort'], page = { page: 1, perPage: 10 }) =>
        (await entries().listByRegistry('1', { sort }, page)).items.map((e) => e.relativePath);
      expect(await list('relative_path')).toEqual([
        'library/alpine/blobs/sha256:aa',
        'library/alpine/manifests/3.20',
        'library/busybox/manifests/latest',
        'team_x/app/blobs/sha256:bb',
      ]);
      expect(await list('-relative_path')).toEqual([
        'team_x/app/blobs/sha256:bb',
        'library/busybox/manifests/latest',
        'library/alpine/manifests/3.20',
        'library/alpine/blobs/sha256:aa',
      ]);
      expect(await list('size')).toEqual([
        'team_x/app/blobs/sha256:bb',
        'library/busybox/manifests/latest',
        'library/alpine/manifests/3.20',
        'library/alpine/blobs/sha256:aa',
      ]);
      expect(await list('-size')).toEqual([
        'library/alpine/blobs/sha256:aa',
        'library/alpine/manifests/3.20',
        'library/busybox/manifests/latest',
        'team_x/app/blobs/sha256:bb',
      ]);
      // Never downloaded sorts first going up, last going down.
      expect(await list('downloaded_at')).toEqual([
        'library/alpine/manifests/3.20',
        'team_x/app/blobs/sha256:bb',
        'library/busybox/manifests/latest',
        'library/alpine/blobs/sha256:aa',
      ]);
      expect((await list('-downloaded_at')).slice(0, 2)).toEqual(['library/alpine/blobs/sha256:aa', 'library/busybox/manifests/latest']);
      const page = await entries().listByRegistry('1', { sort: 'size' }, { page: 2, perPage: 3 });
      expect(page.total).toBe(4);
      expect(page.items.map((e) => e.relativePath)).toEqual(['library/alpine/blobs/sha256:aa']);
    });

    it('searches by a literal substring of the path', async () => {
      await seed();
      await entries().upsert(write('1', '1', 'a.b/c/manifests/1', 1));
      await entries().upsert(write('1', '1', 'axb/c/manifests/1', 1));
      const search = async (text: string) =>
        (await entries().listByRegistry('1', { search: text, sort: 'relative_path' }, { page: 1, perPage: 10 })).items.map(
          (e) => e.relativePath,
        );
      expect(await search('alpine')).toEqual(['library/alpine/blobs/sha256:aa', 'library/alpine/manifests/3.20']);
      expect(await search('a.b')).toEqual(['a.b/c/manifests/1']);
      expect(await search('_x')).toEqual(['team_x/app/blobs/sha256:bb']);
      expect((await entries().listByRegistry('1', { search: 'alpine', sort: 'size' }, { page: 1, perPage: 1 })).total).toBe(2);
      expect((await entries().listByRegistry('x', { sort: 'size' }, { page: 1, perPage: 1 })).total).toBe(0);
    });

    it('finds every entry matching a selector', async () => {
      await seed();
      const paths = async (selector: Parameters<ReturnType<typeof entries>['findAll']>[0]) =>
        (await entries().findAll(selector)).map((e) => `${e.upstreamId}:${e.relativePath}`).sort();
      expect(await paths({ registryId: '1' })).toHaveLength(4);
      expect(await paths({ upstreamId: '2' })).toEqual(['2:library/busybox/manifests/latest', '2:team_x/app/blobs/sha256:bb']);
      expect(await paths({ registryId: '1', pathPrefix: 'library/alpine/' })).toEqual([
        '1:library/alpine/blobs/sha256:aa',
        '1:library/alpine/manifests/3.20',
      ]);
      expect(await paths({ pathPrefix: 'library/alpine/manifests/' })).toEqual([
        '1:library/alpine/manifests/3.20',
        '3:library/alpine/manifests/3.20',
      ]);
      expect(await paths({ registryId: 'nope' })).toEqual([]);
    });

    it('marks an entry pending destruction once, so lookups skip it', async () => {
      await seed();
      expect(await entries().markPendingDestruction('1', 'library/alpine/manifests/3.20')).toBe(true);
      expect(await entries().markPendingDestruction('1', 'library/alpine/manifests/3.20')).toBe(false);
      expect(await entries().markPendingDestruction('1', 'nope/manifests/1')).toBe(false);
      expect(await entries().findFirst(['1'], 'library/alpine/manifests/3.20')).toBeUndefined();
      expect((await entries().get('1', 'library/alpine/manifests/3.20'))?.status).toBe('pending_destruction');
      expect(await paths({ registryId: '1', status: 'default' })).toHaveLength(3);
      expect(await paths({ status: 'pending_destruction' })).toEqual(['1:library/alpine/manifests/3.20']);
      // The other registry's entry at the same path is untouched.
      expect((await entries().get('3', 'library/alpine/manifests/3.20'))?.status).toBe('default');

      async function paths(selector: Parameters<ReturnType<typeof entries>['findAll']>[0]) {
        return (await entries().findAll(selector)).map((e) => `${e.upstreamId}:${e.relativePath}`).sort();
      }
    });
  });

  describe('bounded sweeps of a registry', () => {
    const key = (e: { upstreamId: string; relativePath: string }) => `${e.upstreamId}:${e.relativePath}`;

    it('pages through a selector by (path, upstream), ties across upstreams included, to what findAll returns', async () => {
      await seed();
      await entries().upsert(write('2', '1', 'library/alpine/manifests/3.20', 300));
      const pages: string[][] = [];
      for (let after: { upstreamId: string; relativePath: string } | undefined; ; ) {
        const page = await entries().findPage({ registryId: '1', status: 'default' }, after, 2);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        pages.push(page.map(key));
        after = page.at(-1);
      }
      expect(pages).toEqual([
        ['1:library/alpine/blobs/sha256:aa', '1:library/alpine/manifests/3.20'],
        ['2:library/alpine/manifests/3.20', '2:library/busybox/manifests/latest'],
        ['2:team_x/app/blobs/sha256:bb'],
      ]);
      expect(pages.flat().sort()).toEqual((await entries().findAll({ registryId: '1', status: 'default' })).map(key).sort());
      expect((await entries().findPage({ registryId: '1', pathPrefix: 'library/alpine/m' }, undefined, 10)).map(key)).toEqual([
        '1:library/alpine/manifests/3.20',
        '2:library/alpine/manifests/3.20',
      ]);
      expect(
        (await entries().findPage({ upstreamId: '1' }, { upstreamId: '1', relativePath: 'library/alpine/blobs/sha256:aa' }, 10)).map(key),
      ).toEqual(['1:library/alpine/manifests/3.20']);
      await entries().markPendingDestruction('1', 'library/alpine/manifests/3.20');
      expect(
        (await entries().findPage({ registryId: '1', status: 'default', pathPrefix: 'library/alpine/' }, undefined, 10)).map(key),
      ).toEqual(['1:library/alpine/blobs/sha256:aa', '2:library/alpine/manifests/3.20']);
      expect(
        (
          await entries().findPage({ registryId: '1', status: 'default', relativePath: 'library/alpine/manifests/3.20' }, undefined, 10)
        ).map(key),
      ).toEqual(['2:library/alpine/manifests/3.20']);
      expect(await entries().measure({ relativePath: 'library/alpine/manifests/3.20' })).toEqual({ entries: 3, bytes: 1599 });
      expect(await entries().findPage({ registryId: 'nope' }, undefined, 10)).toEqual([]);
    });

    it('measures entries and bytes of a selector, optionally only those inactive since a cut-off', async () => {
      await seed();
      expect(await entries().measure({ registryId: '1', status: 'default' })).toEqual({ entries: 4, bytes: 1550 });
      expect(await entries().measure({ registryId: '1', pathPrefix: 'library/' })).toEqual({ entries: 3, bytes: 1500 });
      // Only the busybox manifest (downloaded 2025-04-01) was last active before the cut-off; the never-downloaded ones were cached just now.
      expect(
        await entries().measure({ registryId: '1', status: 'default', lastActivityBefore: new Date('2025-04-01T12:00:00.000Z') }),
      ).toEqual({ entries: 1, bytes: 200 });
      expect(await entries().measure({ registryId: '1', status: 'default', lastActivityBefore: new Date(Date.now() + 60_000) })).toEqual({
        entries: 4,
        bytes: 1550,
      });
      expect(await entries().measure({ registryId: 'nope' })).toEqual({ entries: 0, bytes: 0 });
      expect(await entries().measure({ registryId: '9' })).toEqual({ entries: 0, bytes: 0 });
    });

    it('pages live entries least recently active first (download, else caching), ties by path then upstream, with an optional cut-off', async () => {
      await seed();
      const tie = new Date('2025-03-15T00:00:00.000Z');
      await entries().upsert(write('2', '1', 'x/manifests/1', 7));
      await entries().upsert(write('1', '1', 'x/manifests/1', 7));
      await entries().recordDownloads('2', 'x/manifests/1', 1, tie);
      await entries().recordDownloads('1', 'x/manifests/1', 1, tie);
      await entries().upsert(write('1', '1', 'gone/manifests/1', 7));
      await entries().markPendingDestruction('1', 'gone/manifests/1');
      const all: string[] = [];
      for (let after: Parameters<ReturnType<typeof entries>['findByLeastRecentActivity']>[0]['after']; ; ) {
        const page = await entries().findByLeastRecentActivity({ registryId: '1', after, limit: 1 });
        if (page.length === 0) break;
        expect(page).toHaveLength(1);
        all.push(key(page[0]!));
        after = {
          upstreamId: page[0]!.upstreamId,
          relativePath: page[0]!.relativePath,
          lastActivityAt: page[0]!.downloadedAt ?? page[0]!.createdAt,
        };
      }
      expect(all).toEqual([
        '1:x/manifests/1',
        '2:x/manifests/1',
        '2:library/busybox/manifests/latest',
        '1:library/alpine/blobs/sha256:aa',
        '1:library/alpine/manifests/3.20',
        '2:team_x/app/blobs/sha256:bb',
      ]);
      const before = (
        await entries().findByLeastRecentActivity({ registryId: '1', before: new Date('2025-04-01T12:00:00.000Z'), limit: 10 })
      ).map(key);
      expect(before).toEqual(['1:x/manifests/1', '2:x/manifests/1', '2:library/busybox/manifests/latest']);
      expect(await entries().findByLeastRecentActivity({ registryId: 'nope', limit: 10 })).toEqual([]);
    });

    it('sums live usage per upstream in the store, a digest once per upstream', async () => {
      await seed();
      const [b, c, d] = ['b', 'c', 'd'].map((x) => `sha256:${x.repeat(64)}`) as [string, string, string];
      // Registry 5: upstream 7 holds digest b under two paths (counted once) and digest c; upstream 8 holds b too (counted again).
      await entries().upsert(write('7', '5', 'one/blobs/b', 40, b));
      await entries().upsert(write('7', '5', 'two/blobs/b', 40, b));
      await entries().upsert(write('7', '5', 'one/manifests/1', 10, c));
      await entries().upsert(write('8', '5', 'one/blobs/b', 40, b));
      await entries().upsert(write('8', '5', 'gone/blobs/d', 5000, d));
      await entries().markPendingDestruction('8', 'gone/blobs/d');
      const usage = (await entries().liveUsageByUpstream('5')).sort((x, y) => Number(x.upstreamId) - Number(y.upstreamId));
      expect(usage).toEqual([
        { upstreamId: '7', storedBytes: 50, entriesCount: 3 },
        { upstreamId: '8', storedBytes: 40, entriesCount: 1 },
      ]);
      expect(await entries().liveUsageByUpstream('2')).toEqual([{ upstreamId: '3', storedBytes: 999, entriesCount: 1 }]);
      expect(await entries().liveUsageByUpstream('6')).toEqual([]);
      expect(await entries().liveUsageByUpstream('nope')).toEqual([]);
    });

    it('tells whether an upstream still has a live entry of a digest', async () => {
      await seed();
      const a = `sha256:${'a'.repeat(64)}`;
      expect(await entries().hasLiveDigest('1', a)).toBe(true);
      await entries().markPendingDestruction('1', 'library/alpine/manifests/3.20');
      expect(await entries().hasLiveDigest('1', a)).toBe(true);
      await entries().markPendingDestruction('1', 'library/alpine/blobs/sha256:aa');
      expect(await entries().hasLiveDigest('1', a)).toBe(false);
      expect(await entries().hasLiveDigest('2', a)).toBe(true);
      expect(await entries().hasLiveDigest('nope', a)).toBe(false);
    });
  });

  describe('registry quota', () => {
    it('stores max_stored_bytes on create, changes it and removes it with null', async () => {
      const registry = await store().registries.create({ name: 'quota', maxStoredBytes: 5_000_000_000 });
      expect(registry.maxStoredBytes).toBe(5_000_000_000);
      expect((await store().registries.get(registry.id))?.maxStoredBytes).toBe(5_000_000_000);
      expect((await store().registries.update(registry.id, { name: 'quota2' }))?.maxStoredBytes).toBe(5_000_000_000);
      expect((await store().registries.update(registry.id, { maxStoredBytes: 10 }))?.maxStoredBytes).toBe(10);
      const removed = await store().registries.update(registry.id, { maxStoredBytes: null });
      expect(removed?.maxStoredBytes).toBeUndefined();
      expect((await store().registries.get(registry.id))?.maxStoredBytes).toBeUndefined();
      expect((await store().registries.create({ name: 'none' })).maxStoredBytes).toBeUndefined();
    });
  });
}
