import { describe, expect, it } from 'vitest';
import type { NewUpstream } from '../../domain/upstream.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import { tick } from './tick.ts';

/** Upstream part of the `CatalogStore` contract. */
export function describeUpstreamRepository(store: () => CatalogStore): void {
  const input = (registryId: string, name: string, extra: Partial<NewUpstream> = {}): NewUpstream => ({
    registryId,
    name,
    url: `https://${name}.example`,
    cacheValidityHours: 24,
    ...extra,
  });

  /** Creates a registry with upstreams named by `names`, appended in order. */
  async function registryWith(...names: string[]): Promise<{ registryId: string; ids: Record<string, string> }> {
    const registry = await store().registries.create({ name: `reg-${names.join('-') || 'empty'}-${Math.random()}` });
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = (await store().upstreams.create(input(registry.id, name))).id;
    return { registryId: registry.id, ids };
  }

  async function order(registryId: string): Promise<string[]> {
    const list = await store().upstreams.listByRegistry(registryId);
    list.forEach((u, i) => expect(u.position).toBe(i));
    return list.map((u) => u.name);
  }

  describe('upstreams', () => {
    it('appends upstreams in creation order with positions 0..n-1', async () => {
      const { registryId } = await registryWith('hub', 'ghcr', 'quay');
      expect(await order(registryId)).toEqual(['hub', 'ghcr', 'quay']);
    });

    it('stores every field and returns the upstream by id', async () => {
      const { registryId } = await registryWith();
      const created = await store().upstreams.create(
        input(registryId, 'private', { username: 'bot', passwordSealed: 'v1.sealed', cacheValidityHours: 0 }),
      );
      expect(created).toMatchObject({
        registryId,
        name: 'private',
        url: 'https://private.example',
        username: 'bot',
        passwordSealed: 'v1.sealed',
        cacheValidityHours: 0,
        position: 0,
      });
      expect(await store().upstreams.get(created.id)).toEqual(created);
      expect(await store().upstreams.get('98765')).toBeUndefined();
      expect(await store().upstreams.get('x')).toBeUndefined();
    });

    it('inserts at a given position and shifts the later upstreams down', async () => {
      const { registryId } = await registryWith('a', 'b', 'c');
      const inserted = await store().upstreams.create(input(registryId, 'first', { position: 0 }));
      expect(inserted.position).toBe(0);
      await store().upstreams.create(input(registryId, 'middle', { position: 2 }));
      expect(await order(registryId)).toEqual(['first', 'a', 'middle', 'b', 'c']);
    });

    it('treats a position past the end as an append', async () => {
      const { registryId } = await registryWith('a', 'b');
      const created = await store().upstreams.create(input(registryId, 'last', { position: 99 }));
      expect(created.position).toBe(2);
      expect(await order(registryId)).toEqual(['a', 'b', 'last']);
    });

    it('moves an upstream up the list and renumbers the others', async () => {
      const { registryId, ids } = await registryWith('a', 'b', 'c', 'd');
      const moved = await store().upstreams.update(ids.d as string, { position: 1 });
      expect(moved?.position).toBe(1);
      expect(await order(registryId)).toEqual(['a', 'd', 'b', 'c']);
    });

    it('moves an upstream down the list, clamping to the last place', async () => {
      const { registryId, ids } = await registryWith('a', 'b', 'c');
      await store().upstreams.update(ids.a as string, { position: 50 });
      expect(await order(registryId)).toEqual(['b', 'c', 'a']);
    });

    it('closes the gap when an upstream is deleted', async () => {
      const { registryId, ids } = await registryWith('a', 'b', 'c');
      expect(await store().upstreams.delete(ids.b as string)).toBe(true);
      expect(await order(registryId)).toEqual(['a', 'c']);
      expect(await store().upstreams.get(ids.b as string)).toBeUndefined();
      expect(await store().upstreams.delete(ids.b as string)).toBe(false);
    });

    it('keeps the order of each registry apart', async () => {
      const one = await registryWith('x1', 'x2');
      const two = await registryWith('y1', 'y2');
      await store().upstreams.update(one.ids.x2 as string, { position: 0 });
      await store().upstreams.delete(two.ids.y1 as string);
      expect(await order(one.registryId)).toEqual(['x2', 'x1']);
      expect(await order(two.registryId)).toEqual(['y2']);
    });

    it('returns an empty list for a registry without upstreams', async () => {
      expect(await store().upstreams.listByRegistry('31337')).toEqual([]);
    });

    it('patches fields, keeps the others and bumps updatedAt', async () => {
      const { registryId } = await registryWith();
      const created = await store().upstreams.create(input(registryId, 'u', { username: 'bot', passwordSealed: 'v1.old' }));
      await tick();
      const updated = await store().upstreams.update(created.id, { name: 'renamed', cacheValidityHours: 6, passwordSealed: 'v1.new' });
      expect(updated).toMatchObject({
        name: 'renamed',
        url: created.url,
        username: 'bot',
        passwordSealed: 'v1.new',
        cacheValidityHours: 6,
        position: 0,
      });
      expect(updated?.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      expect(await store().upstreams.get(created.id)).toEqual(updated);
    });

    it('removes the username and the password when patched with null', async () => {
      const { registryId } = await registryWith();
      const created = await store().upstreams.create(input(registryId, 'u', { username: 'bot', passwordSealed: 'v1.old' }));
      const updated = await store().upstreams.update(created.id, { username: null, passwordSealed: null });
      expect(updated?.username).toBeUndefined();
      expect(updated?.passwordSealed).toBeUndefined();
      expect(await store().upstreams.get(created.id)).toEqual(updated);
    });

    it('keeps a blob size limit, changes it and removes it when patched with null', async () => {
      const { registryId } = await registryWith();
      const plain = await store().upstreams.create(input(registryId, 'plain'));
      expect(plain.maxBlobSizeBytes).toBeUndefined();
      const capped = await store().upstreams.create(input(registryId, 'capped', { maxBlobSizeBytes: 5_000_000_000 }));
      expect((await store().upstreams.get(capped.id))?.maxBlobSizeBytes).toBe(5_000_000_000);
      expect((await store().upstreams.update(capped.id, { maxBlobSizeBytes: 1024 }))?.maxBlobSizeBytes).toBe(1024);
      expect((await store().upstreams.update(capped.id, { name: 'renamed' }))?.maxBlobSizeBytes).toBe(1024);
      const removed = await store().upstreams.update(capped.id, { maxBlobSizeBytes: null });
      expect(removed?.maxBlobSizeBytes).toBeUndefined();
      expect(await store().upstreams.get(capped.id)).toEqual(removed);
    });

    it('returns undefined when updating an unknown upstream', async () => {
      expect(await store().upstreams.update('5555', { name: 'x' })).toBeUndefined();
    });
  });
}
