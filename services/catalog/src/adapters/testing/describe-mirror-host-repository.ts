import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import type { CatalogStore } from '../../ports/catalog-store.ts';

/** Mirror-host part of the `CatalogStore` contract. */
export function describeMirrorHostRepository(store: () => CatalogStore): void {
  const mirrors = () => store().mirrorHosts;
  const hostsOf = async (registryId: string) => (await mirrors().listByRegistry(registryId)).map((m) => m.host);

  describe('mirror hosts', () => {
    it('sets, lists sorted, finds by host and replaces a registry’s hosts', async () => {
      const set = await mirrors().replaceForRegistry('1', ['ghcr.io', 'docker.io']);
      expect(set.map((m) => m.host)).toEqual(['docker.io', 'ghcr.io']);
      expect(set.every((m) => m.registryId === '1' && m.createdAt instanceof Date)).toBe(true);
      expect(await mirrors().findByHost('ghcr.io')).toMatchObject({ host: 'ghcr.io', registryId: '1' });
      expect(await mirrors().findByHost('quay.io')).toBeUndefined();
      const kept = set.find((m) => m.host === 'docker.io')?.createdAt;
      await mirrors().replaceForRegistry('1', ['docker.io', 'quay.io']);
      expect(await hostsOf('1')).toEqual(['docker.io', 'quay.io']);
      expect(await mirrors().findByHost('ghcr.io')).toBeUndefined();
      expect((await mirrors().findByHost('docker.io'))?.createdAt).toEqual(kept);
      expect(await mirrors().replaceForRegistry('1', [])).toEqual([]);
      expect(await mirrors().listAll()).toEqual([]);
    });

    it('refuses a host another registry mirrors with a conflict naming both, and changes nothing', async () => {
      await mirrors().replaceForRegistry('1', ['docker.io']);
      await mirrors().replaceForRegistry('2', ['quay.io']);
      await expect(mirrors().replaceForRegistry('2', ['ghcr.io', 'docker.io'])).rejects.toMatchObject({
        code: ErrorCodes.conflict,
        detail: { host: 'docker.io', registryId: '1' },
      });
      expect(await hostsOf('2')).toEqual(['quay.io']);
      expect(await mirrors().findByHost('ghcr.io')).toBeUndefined();
      expect((await mirrors().listAll()).map((m) => [m.host, m.registryId])).toEqual([
        ['docker.io', '1'],
        ['quay.io', '2'],
      ]);
    });

    it('gives a host to one of two registries asking for it at once', async () => {
      const outcomes = await Promise.allSettled([
        mirrors().replaceForRegistry('1', ['registry.k8s.io']),
        mirrors().replaceForRegistry('2', ['registry.k8s.io']),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect((await mirrors().listAll()).map((m) => m.host)).toEqual(['registry.k8s.io']);
    });

    it('deletes every host of a registry, and only those', async () => {
      await mirrors().replaceForRegistry('1', ['docker.io', 'ghcr.io']);
      await mirrors().replaceForRegistry('2', ['quay.io']);
      expect(await mirrors().deleteByRegistry('1')).toBe(2);
      expect(await mirrors().deleteByRegistry('1')).toBe(0);
      expect((await mirrors().listAll()).map((m) => m.host)).toEqual(['quay.io']);
    });

    it('knows no hosts for ids that are not registry ids', async () => {
      expect(await mirrors().listByRegistry('not-an-id')).toEqual([]);
      expect(await mirrors().deleteByRegistry('0')).toBe(0);
    });
  });
}
