import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import { tick } from './tick.ts';

/** Registry part of the `CatalogStore` contract. */
export function describeRegistryRepository(store: () => CatalogStore): void {
  describe('registries', () => {
    it('assigns small increasing integer ids as strings', async () => {
      const a = await store().registries.create({ name: 'a' });
      const b = await store().registries.create({ name: 'b' });
      expect(a.id).toMatch(/^[1-9][0-9]*$/);
      expect(Number(b.id)).toBeGreaterThan(Number(a.id));
    });

    it('gives distinct ids to registries created at the same time', async () => {
      const created = await Promise.all(Array.from({ length: 6 }, (_, i) => store().registries.create({ name: `r${i}` })));
      expect(new Set(created.map((r) => r.id)).size).toBe(6);
    });

    it('returns a created registry by id with its timestamps', async () => {
      const created = await store().registries.create({ name: 'docker', description: 'Docker Hub and friends' });
      const found = await store().registries.get(created.id);
      expect(found).toEqual(created);
      expect(found?.createdAt).toBeInstanceOf(Date);
      expect(found?.updatedAt.getTime()).toBe(found?.createdAt.getTime());
    });

    it('returns undefined for an unknown or non-numeric id', async () => {
      expect(await store().registries.get('999')).toBeUndefined();
      expect(await store().registries.get('abc')).toBeUndefined();
      expect(await store().registries.get('0')).toBeUndefined();
    });

    it('rejects a second registry with the same name with CONFLICT', async () => {
      await store().registries.create({ name: 'same' });
      await expect(store().registries.create({ name: 'same' })).rejects.toMatchObject({ code: ErrorCodes.conflict });
    });

    it('lists registries ordered by numeric id, one page at a time, with the total', async () => {
      for (let i = 1; i <= 12; i += 1) await store().registries.create({ name: `reg-${i}` });
      const first = await store().registries.list({ page: 1, perPage: 5 });
      const third = await store().registries.list({ page: 3, perPage: 5 });
      expect(first.total).toBe(12);
      expect(first.items.map((r) => r.name)).toEqual(['reg-1', 'reg-2', 'reg-3', 'reg-4', 'reg-5']);
      expect(third.items.map((r) => r.name)).toEqual(['reg-11', 'reg-12']);
      expect((await store().registries.list({ page: 4, perPage: 5 })).items).toEqual([]);
    });

    it('lists only the registries a filter names, paging and counting after the filter', async () => {
      const ids: string[] = [];
      for (let i = 1; i <= 9; i += 1) ids.push((await store().registries.create({ name: `f-${i}` })).id);
      const wanted = [ids[1], ids[4], ids[5], ids[8]] as string[];
      const first = await store().registries.list({ page: 1, perPage: 3 }, { ids: wanted });
      const second = await store().registries.list({ page: 2, perPage: 3 }, { ids: wanted });
      expect(first.total).toBe(4);
      expect(first.items.map((r) => r.id)).toEqual(wanted.slice(0, 3));
      expect(second).toMatchObject({ total: 4 });
      expect(second.items.map((r) => r.id)).toEqual(wanted.slice(3));
      // Unknown and malformed ids match nothing; an empty list matches no registry at all.
      expect((await store().registries.list({ page: 1, perPage: 10 }, { ids: [ids[0] as string, '999', 'abc', '0'] })).total).toBe(1);
      expect(await store().registries.list({ page: 1, perPage: 10 }, { ids: [] })).toEqual({ items: [], total: 0 });
      expect((await store().registries.list({ page: 1, perPage: 10 }, {})).total).toBe(9);
    });

    it('renames a registry, removes its description with null and bumps updatedAt', async () => {
      const created = await store().registries.create({ name: 'old', description: 'text' });
      await tick();
      const updated = await store().registries.update(created.id, { name: 'new', description: null });
      expect(updated).toMatchObject({ id: created.id, name: 'new' });
      expect(updated?.description).toBeUndefined();
      expect(updated?.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      expect(updated?.createdAt.getTime()).toBe(created.createdAt.getTime());
      expect(await store().registries.get(created.id)).toEqual(updated);
    });

    it('keeps fields a patch does not mention', async () => {
      const created = await store().registries.create({ name: 'keep', description: 'kept' });
      const updated = await store().registries.update(created.id, {});
      expect(updated).toMatchObject({ name: 'keep', description: 'kept' });
    });

    it('refuses to rename a registry to another registry name', async () => {
      await store().registries.create({ name: 'taken' });
      const other = await store().registries.create({ name: 'other' });
      await expect(store().registries.update(other.id, { name: 'taken' })).rejects.toMatchObject({ code: ErrorCodes.conflict });
      expect((await store().registries.get(other.id))?.name).toBe('other');
    });

    it('allows a registry to keep its own name in a patch', async () => {
      const created = await store().registries.create({ name: 'mine' });
      expect(await store().registries.update(created.id, { name: 'mine' })).toMatchObject({ name: 'mine' });
    });

    it('returns undefined when updating an unknown registry', async () => {
      expect(await store().registries.update('4242', { name: 'x' })).toBeUndefined();
    });

    it('deletes a registry and tells whether it existed', async () => {
      const created = await store().registries.create({ name: 'gone' });
      expect(await store().registries.delete(created.id)).toBe(true);
      expect(await store().registries.get(created.id)).toBeUndefined();
      expect(await store().registries.delete(created.id)).toBe(false);
      expect(await store().registries.delete('nope')).toBe(false);
    });

    it('makes a registry private unless told otherwise, and keeps the visibility it is given', async () => {
      const plain = await store().registries.create({ name: 'plain' });
      const open = await store().registries.create({ name: 'open', visibility: 'public' });
      expect(plain.visibility).toBe('private');
      expect((await store().registries.get(open.id))?.visibility).toBe('public');
    });

    it('changes the visibility with a patch and keeps it when a patch does not mention it', async () => {
      const created = await store().registries.create({ name: 'flip' });
      expect((await store().registries.update(created.id, { visibility: 'public' }))?.visibility).toBe('public');
      expect((await store().registries.update(created.id, { name: 'flipped' }))?.visibility).toBe('public');
      expect((await store().registries.update(created.id, { visibility: 'private' }))?.visibility).toBe('private');
    });

    it('frees the name of a deleted registry', async () => {
      const created = await store().registries.create({ name: 'reuse' });
      await store().registries.delete(created.id);
      expect(await store().registries.create({ name: 'reuse' })).toMatchObject({ name: 'reuse' });
    });
  });
}
