import { describe, expect, it } from 'vitest';
import type { CacheEntryWrite } from '../../domain/cache-entry.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const T1 = new Date('2025-03-01T10:00:00.000Z');
const T2 = new Date('2025-03-01T11:00:00.000Z');
const T3 = new Date('2025-03-01T12:00:00.000Z');

/** Cache-entry part of the `CatalogStore` contract. */
export function describeCacheEntryRepository(store: () => CatalogStore): void {
  const write = (upstreamId: string, relativePath: string, extra: Partial<CacheEntryWrite> = {}): CacheEntryWrite => ({
    upstreamId,
    registryId: '1',
    relativePath,
    digest: DIGEST_A,
    contentType: 'application/vnd.oci.image.manifest.v1+json',
    size: 1234,
    upstreamEtag: '"etag-1"',
    upstreamCheckedAt: T1,
    ...extra,
  });
  const entries = () => store().cacheEntries;

  describe('cache entries', () => {
    it('inserts a new entry with no downloads and status default', async () => {
      expect(await entries().upsert(write('1', 'library/alpine/manifests/latest'))).toBe('inserted');
      const entry = await entries().findFirst(['1'], 'library/alpine/manifests/latest');
      expect(entry).toMatchObject({
        upstreamId: '1',
        registryId: '1',
        relativePath: 'library/alpine/manifests/latest',
        digest: DIGEST_A,
        size: 1234,
        upstreamEtag: '"etag-1"',
        upstreamCheckedAt: T1,
        downloadsCount: 0,
        status: 'default',
      });
      expect(entry?.downloadedAt).toBeUndefined();
      expect(entry?.createdAt).toBeInstanceOf(Date);
    });

    it('ignores the same write twice: one entry, downloads untouched', async () => {
      const path = 'library/alpine/blobs/' + DIGEST_A;
      await entries().upsert(write('1', path));
      await entries().recordDownloads('1', path, 3, T2);
      expect(await entries().upsert(write('1', path))).toBe('ignored');
      expect(await entries().countByUpstream('1')).toBe(1);
      expect(await entries().findFirst(['1'], path)).toMatchObject({ downloadsCount: 3, downloadedAt: T2, digest: DIGEST_A });
    });

    it('keeps exactly one entry when the same write races with itself', async () => {
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => entries().upsert(write('1', 'race/manifests/v1'))));
      expect(outcomes.filter((o) => o === 'inserted')).toHaveLength(1);
      expect(await entries().countByUpstream('1')).toBe(1);
    });

    it('replaces the facts when a newer check arrives, keeping downloads and createdAt', async () => {
      const path = 'library/alpine/manifests/latest';
      await entries().upsert(write('1', path));
      await entries().recordDownloads('1', path, 2, T1);
      const before = await entries().findFirst(['1'], path);
      expect(
        await entries().upsert(write('1', path, { digest: DIGEST_B, size: 99, upstreamEtag: '"etag-2"', upstreamCheckedAt: T2 })),
      ).toBe('updated');
      const after = await entries().findFirst(['1'], path);
      expect(after).toMatchObject({
        digest: DIGEST_B,
        size: 99,
        upstreamEtag: '"etag-2"',
        upstreamCheckedAt: T2,
        downloadsCount: 2,
        downloadedAt: T1,
      });
      expect(after?.createdAt.getTime()).toBe(before?.createdAt.getTime());
    });

    it('never lets an older check overwrite a newer one', async () => {
      const path = 'library/alpine/manifests/latest';
      await entries().upsert(write('1', path, { digest: DIGEST_B, upstreamCheckedAt: T3 }));
      expect(await entries().upsert(write('1', path, { digest: DIGEST_A, upstreamCheckedAt: T2 }))).toBe('ignored');
      expect(await entries().findFirst(['1'], path)).toMatchObject({ digest: DIGEST_B, upstreamCheckedAt: T3 });
    });

    it('drops the etag when the newer check has none', async () => {
      const path = 'app/manifests/v1';
      await entries().upsert(write('1', path));
      await entries().upsert(write('1', path, { upstreamEtag: undefined, upstreamCheckedAt: T2 }));
      expect((await entries().findFirst(['1'], path))?.upstreamEtag).toBeUndefined();
    });

    it('finds the entry of the first upstream in the given order that has the path', async () => {
      const path = 'library/nginx/manifests/1.27';
      await entries().upsert(write('3', path, { digest: DIGEST_B }));
      await entries().upsert(write('2', path, { digest: DIGEST_A }));
      expect(await entries().findFirst(['1', '3', '2'], path)).toMatchObject({ upstreamId: '3', digest: DIGEST_B });
      expect(await entries().findFirst(['2', '3'], path)).toMatchObject({ upstreamId: '2', digest: DIGEST_A });
    });

    it('finds nothing when no listed upstream has the path', async () => {
      await entries().upsert(write('7', 'only/manifests/here'));
      expect(await entries().findFirst(['1', '2'], 'only/manifests/here')).toBeUndefined();
      expect(await entries().findFirst(['7'], 'only/manifests/elsewhere')).toBeUndefined();
      expect(await entries().findFirst([], 'only/manifests/here')).toBeUndefined();
    });

    it('lists the entries of one upstream by relative path, a page at a time, with the total', async () => {
      for (const path of ['c/manifests/1', 'a/manifests/1', 'b/blobs/' + DIGEST_A, 'a/blobs/' + DIGEST_B]) {
        await entries().upsert(write('4', path));
      }
      await entries().upsert(write('5', 'a/manifests/0'));
      const first = await entries().listByUpstream('4', { page: 1, perPage: 3 });
      const second = await entries().listByUpstream('4', { page: 2, perPage: 3 });
      expect(first.total).toBe(4);
      expect(first.items.map((e) => e.relativePath)).toEqual(['a/blobs/' + DIGEST_B, 'a/manifests/1', 'b/blobs/' + DIGEST_A]);
      expect(second.items.map((e) => e.relativePath)).toEqual(['c/manifests/1']);
    });

    it('adds download counts and moves downloadedAt forward only', async () => {
      const path = 'x/blobs/' + DIGEST_A;
      await entries().upsert(write('1', path));
      expect(await entries().recordDownloads('1', path, 2, T2)).toBe(true);
      expect(await entries().recordDownloads('1', path, 5, T1)).toBe(true);
      expect(await entries().findFirst(['1'], path)).toMatchObject({ downloadsCount: 7, downloadedAt: T2 });
      await entries().recordDownloads('1', path, 1, T3);
      expect(await entries().findFirst(['1'], path)).toMatchObject({ downloadsCount: 8, downloadedAt: T3 });
    });

    it('reports false when recording downloads of an unknown entry', async () => {
      expect(await entries().recordDownloads('1', 'missing/manifests/x', 1, T1)).toBe(false);
      expect(await entries().countByUpstream('1')).toBe(0);
    });

    it('counts and deletes the entries of one upstream without touching the others', async () => {
      await entries().upsert(write('8', 'a/manifests/1'));
      await entries().upsert(write('8', 'b/manifests/1'));
      await entries().upsert(write('9', 'a/manifests/1'));
      expect(await entries().countByUpstream('8')).toBe(2);
      expect(await entries().deleteByUpstream('8')).toBe(2);
      expect(await entries().countByUpstream('8')).toBe(0);
      expect(await entries().countByUpstream('9')).toBe(1);
      expect(await entries().deleteByUpstream('8')).toBe(0);
    });
  });
}
