import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import type { NewAccessToken } from '../../domain/access-token.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import { tick } from './tick.ts';

/** Access-token part of the `CatalogStore` contract. */
export function describeAccessTokenRepository(store: () => CatalogStore): void {
  let n = 0;
  const input = (extra: Partial<NewAccessToken> = {}): NewAccessToken => {
    n += 1;
    return {
      name: `token-${n}`,
      tokenDigest: n.toString(16).padStart(64, 'a'),
      tokenPrefix: `vregat_${n}`,
      scopes: ['read_virtual_registry'],
      ...extra,
    };
  };

  describe('access tokens', () => {
    it('stores a token with a fresh id and finds it by id and by digest', async () => {
      const expiresAt = new Date('2031-02-03T04:05:06.789Z');
      const created = await store().accessTokens.create(
        input({ scopes: ['read_virtual_registry', 'admin'], registryIds: ['3', '12'], expiresAt }),
      );
      expect(created).toMatchObject({ scopes: ['read_virtual_registry', 'admin'], registryIds: ['3', '12'], expiresAt });
      expect(created.id).toMatch(/^[1-9][0-9]*$/);
      expect(created.lastUsedAt).toBeUndefined();
      expect(created.revokedAt).toBeUndefined();
      expect(await store().accessTokens.get(created.id)).toEqual(created);
      expect(await store().accessTokens.findByDigest(created.tokenDigest)).toEqual(created);
    });

    it('keeps "every registry" apart from "no registry restriction given"', async () => {
      const open = await store().accessTokens.create(input());
      expect((await store().accessTokens.get(open.id))?.registryIds).toBeUndefined();
      expect((await store().accessTokens.get(open.id))?.expiresAt).toBeUndefined();
    });

    it('returns undefined for an unknown id or digest', async () => {
      expect(await store().accessTokens.get('999')).toBeUndefined();
      expect(await store().accessTokens.get('x')).toBeUndefined();
      expect(await store().accessTokens.findByDigest('f'.repeat(64))).toBeUndefined();
    });

    it('refuses a second token with the same digest with CONFLICT', async () => {
      const first = input();
      await store().accessTokens.create(first);
      await expect(store().accessTokens.create({ ...input(), tokenDigest: first.tokenDigest })).rejects.toMatchObject({
        code: ErrorCodes.conflict,
      });
    });

    it('lists tokens by id a page at a time with the total', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await store().accessTokens.create(input())).id);
      const page = await store().accessTokens.list({ page: 2, perPage: 2 });
      expect(page.total).toBe(5);
      expect(page.items.map((t) => t.id)).toEqual(ids.slice(2, 4));
    });

    it('lists only tokens restricted to a subset of the registries a filter names, counting after the filter', async () => {
      const make = async (registryIds?: string[]) =>
        (await store().accessTokens.create({ ...input(), ...(registryIds === undefined ? {} : { registryIds }) })).id;
      await make();
      const one = await make(['1']);
      const oneTwo = await make(['1', '2']);
      await make(['1', '3']);
      await make(['3']);
      const two = await make(['2']);
      const within = { within: ['1', '2', 'junk'] };
      const first = await store().accessTokens.list({ page: 1, perPage: 2 }, within);
      expect(first.total).toBe(3);
      expect(first.items.map((t) => t.id)).toEqual([one, oneTwo]);
      expect((await store().accessTokens.list({ page: 2, perPage: 2 }, within)).items.map((t) => t.id)).toEqual([two]);
      expect((await store().accessTokens.list({ page: 1, perPage: 10 }, { within: ['2'] })).items.map((t) => t.id)).toEqual([two]);
      expect(await store().accessTokens.list({ page: 1, perPage: 10 }, { within: [] })).toEqual({ items: [], total: 0 });
      expect((await store().accessTokens.list({ page: 1, perPage: 10 })).total).toBe(6);
    });

    it('revokes a token once, keeping the first revocation time', async () => {
      const created = await store().accessTokens.create(input());
      const first = new Date('2030-01-01T00:00:00.000Z');
      await tick();
      const revoked = await store().accessTokens.revoke(created.id, first);
      expect(revoked?.revokedAt).toEqual(first);
      expect(revoked?.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      const again = await store().accessTokens.revoke(created.id, new Date('2030-06-01T00:00:00.000Z'));
      expect(again?.revokedAt).toEqual(first);
      expect((await store().accessTokens.findByDigest(created.tokenDigest))?.revokedAt).toEqual(first);
      expect(await store().accessTokens.revoke('4242', first)).toBeUndefined();
    });

    it('moves the last-used time forward only', async () => {
      const created = await store().accessTokens.create(input());
      const later = new Date('2030-01-02T00:00:00.000Z');
      expect(await store().accessTokens.recordLastUsed(created.id, later)).toBe(true);
      expect(await store().accessTokens.recordLastUsed(created.id, new Date('2030-01-01T00:00:00.000Z'))).toBe(true);
      expect((await store().accessTokens.get(created.id))?.lastUsedAt).toEqual(later);
      expect(await store().accessTokens.recordLastUsed('4242', later)).toBe(false);
    });
  });
}
