import type { PullPolicy } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import type { PolicyDenial } from '../../domain/pull-policy.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';

const KEY_PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample\n-----END PUBLIC KEY-----\n';

const policy = (extra: Partial<PullPolicy> = {}): PullPolicy => ({
  defaultAction: 'deny',
  rules: [
    { name: 'no-secrets', action: 'deny', image: 'secret/*' },
    { action: 'allow', image: 'library/**', tags: ['1.*', 'latest'], platforms: ['linux/amd64'] },
  ],
  signatures: { mode: 'enforce', keys: [{ name: 'release', pem: KEY_PEM }], scopes: [{ image: 'tools/**', mode: 'audit' }] },
  ...extra,
});

const T0 = new Date('2030-05-01T12:00:00.000Z');
const denial = (id: string, registryId: string, at: Date, extra: Partial<PolicyDenial> = {}): PolicyDenial => ({
  id,
  registryId,
  image: 'secret/app',
  reference: 'latest',
  kind: 'manifest',
  mode: 'enforce',
  reason: 'rule',
  rule: { index: 1, name: 'no-secrets' },
  message: 'pull of secret/app:latest refused by rule 1 "no-secrets" (deny secret/*)',
  client: 'access-token:3',
  tokenName: 'ci',
  count: 1,
  at,
  ...extra,
});

/** Pull-policy part of the `CatalogStore` contract: policies and the records of their refusals. */
export function describePullPolicyRepository(store: () => CatalogStore): void {
  describe('pull policies', () => {
    it('stores a policy byte-exact, replaces it keeping its creation time, and deletes it', async () => {
      expect(await store().pullPolicies.get('1')).toBeUndefined();
      const created = await store().pullPolicies.put('1', policy());
      expect(created).toMatchObject({ registryId: '1', policy: policy() });
      expect(await store().pullPolicies.get('1')).toEqual(created);
      const replaced = await store().pullPolicies.put('1', policy({ defaultAction: 'allow', rules: [] }));
      expect(replaced.createdAt).toEqual(created.createdAt);
      expect((await store().pullPolicies.get('1'))?.policy).toEqual(policy({ defaultAction: 'allow', rules: [] }));
      expect(await store().pullPolicies.get('2')).toBeUndefined();
      expect(await store().pullPolicies.delete('1')).toBe(true);
      expect(await store().pullPolicies.delete('1')).toBe(false);
      expect(await store().pullPolicies.get('1')).toBeUndefined();
      expect(await store().pullPolicies.get('not-a-number')).toBeUndefined();
    });
  });

  describe('policy denials', () => {
    it('lists records newest first, all or for some registries, and keeps one record per event id', async () => {
      const d = store().policyDenials;
      await d.add(denial('a', '1', new Date(T0.getTime() + 1000)));
      await d.add(
        denial('b', '2', new Date(T0.getTime() + 2000), {
          kind: 'blob',
          reference: 'sha256:00',
          rule: undefined,
          reason: 'default',
          tokenName: undefined,
        }),
      );
      await d.add(
        denial('c', '1', new Date(T0.getTime() + 3000), {
          mode: 'audit',
          reason: 'unsigned',
          digest: `sha256:${'a'.repeat(64)}`,
          rule: undefined,
          count: 7,
        }),
      );
      await d.add(denial('a', '1', new Date(T0.getTime() + 9000)));
      const all = await d.list({}, { page: 1, perPage: 10 });
      expect(all.total).toBe(3);
      expect(all.items.map((x) => x.id)).toEqual(['c', 'b', 'a']);
      expect(all.items[0]).toEqual(
        denial('c', '1', new Date(T0.getTime() + 3000), {
          mode: 'audit',
          reason: 'unsigned',
          digest: `sha256:${'a'.repeat(64)}`,
          rule: undefined,
          count: 7,
        }),
      );
      expect(all.items[1]).not.toHaveProperty('rule');
      expect(all.items[1]).not.toHaveProperty('tokenName');
      expect((await d.list({ registryIds: ['1'] }, { page: 1, perPage: 10 })).items.map((x) => x.id)).toEqual(['c', 'a']);
      expect((await d.list({ registryIds: ['1', '2'] }, { page: 2, perPage: 2 })).items.map((x) => x.id)).toEqual(['a']);
      expect(await d.list({ registryIds: [] }, { page: 1, perPage: 10 })).toEqual({ items: [], total: 0 });
    });

    it("prunes records past their age and past the newest maxRecords, and a deleted registry's", async () => {
      const d = store().policyDenials;
      for (let i = 0; i < 6; i++) await d.add(denial(`r${i}`, i % 2 === 0 ? '1' : '2', new Date(T0.getTime() + i * 60_000)));
      // At T0 + 10 min, with a 7-minute age limit: r0, r1 and r2 (at +0, +1, +2 min) are too old.
      expect(await d.prune({ maxAgeMs: 7 * 60_000 + 1, maxRecords: 100 }, new Date(T0.getTime() + 10 * 60_000))).toBe(3);
      expect(await d.prune({ maxAgeMs: 3_600_000, maxRecords: 2 }, new Date(T0.getTime() + 10 * 60_000))).toBe(1);
      expect((await d.list({}, { page: 1, perPage: 10 })).items.map((x) => x.id)).toEqual(['r5', 'r4']);
      expect(await d.deleteByRegistry('2')).toBe(1);
      expect((await d.list({}, { page: 1, perPage: 10 })).items.map((x) => x.id)).toEqual(['r4']);
    });
  });
}
