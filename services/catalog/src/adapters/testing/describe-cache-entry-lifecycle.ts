import { describe, expect, it } from 'vitest';
import type { CacheEntryWrite } from '../../domain/cache-entry.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';

const CHECKED = new Date('2025-03-01T10:00:00.000Z');

/** Lifecycle part of the `CatalogStore` contract: registry-wide entry queries, marking for destruction, registry quotas. */
export function describeCacheEntryLifecycle(store: () => CatalogStore): void {
  const write = (upstreamId: string, registryId: string, relativePath: string, size: number, digest = `sha256:${'a'.repeat(64)}`): CacheEntryWrite => ({
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
      expect(await list('relative_path')).toEqual(['library/alpine/blobs/sha256:aa', 'library/alpine/manifests/3.20', 'library/busybox/manifests/latest', 'team_x/app/blobs/sha256:bb']);
      expect(await list('-relative_path')).toEqual(['team_x/app/blobs/sha256:bb', 'library/busybox/manifests/latest', 'library/alpine/manifests/3.20', 'library/alpine/blobs/sha256:aa']);
      expect(await list('size')).toEqual(['team_x/app/blobs/sha256:bb', 'library/busybox/manifests/latest', 'library/alpine/manifests/3.20', 'library/alpine/blobs/sha256:aa']);
      expect(await list('-size')).toEqual(['library/alpine/blobs/sha256:aa', 'library/alpine/manifests/3.20', 'library/busybox/manifests/latest', 'team_x/app/blobs/sha256:bb']);
      // Never downloaded sorts first going up, last going down.
      expect(await list('downloaded_at')).toEqual(['library/alpine/manifests/3.20', 'team_x/app/blobs/sha256:bb', 'library/busybox/manifests/latest', 'library/alpine/blobs/sha256:aa']);
      expect((await list('-downloaded_at')).slice(0, 2)).toEqual(['library/alpine/blobs/sha256:aa', 'library/busybox/manifests/latest']);
      const page = await entries().listByRegistry('1', { sort: 'size' }, { page: 2, perPage: 3 });
      expect(page.total).toBe(4);
      expect(page.items.map((e) => e.relativePath)).toEqual(['library/alpine/blobs/sha256:aa']);
    });

    it('searches by a literal substring of the path', async () => {
      await seed();
      await entries().upsert(write('1', '1', 'a.b/c/manifests/1', 1));
      await entries().upsert(write('1', '1', 'axb/c/manifests/1', 1));
      const search = async (text: string) => (await entries().listByRegistry('1', { search: text, sort: 'relative_path' }, { page: 1, perPage: 10 })).items.map((e) => e.relativePath);
      expect(await search('alpine')).toEqual(['library/alpine/blobs/sha256:aa', 'library/alpine/manifests/3.20']);
      expect(await search('a.b')).toEqual(['a.b/c/manifests/1']);
      expect(await search('_x')).toEqual(['team_x/app/blobs/sha256:bb']);
      expect((await entries().listByRegistry('1', { search: 'alpine', sort: 'size' }, { page: 1, perPage: 1 })).total).toBe(2);
      expect((await entries().listByRegistry('x', { sort: 'size' }, { page: 1, perPage: 1 })).total).toBe(0);
    });

    it('finds every entry matching a selector', async () => {
      await seed();
      const paths = async (selector: Parameters<ReturnType<typeof entries>['findAll']>[0]) => (await entries().findAll(selector)).map((e) => `${e.upstreamId}:${e.relativePath}`).sort();
      expect(await paths({ registryId: '1' })).toHaveLength(4);
      expect(await paths({ upstreamId: '2' })).toEqual(['2:library/busybox/manifests/latest', '2:team_x/app/blobs/sha256:bb']);
      expect(await paths({ registryId: '1', pathPrefix: 'library/alpine/' })).toEqual(['1:library/alpine/blobs/sha256:aa', '1:library/alpine/manifests/3.20']);
      expect(await paths({ pathPrefix: 'library/alpine/manifests/' })).toEqual(['1:library/alpine/manifests/3.20', '3:library/alpine/manifests/3.20']);
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
