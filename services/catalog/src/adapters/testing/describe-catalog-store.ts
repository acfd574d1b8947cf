import { afterEach, beforeEach, describe } from 'vitest';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import { describeAccessTokenRepository } from './describe-access-token-repository.ts';
import { describeCacheEntryLifecycle } from './describe-cache-entry-lifecycle.ts';
import { describeCacheEntryRepository } from './describe-cache-entry-repository.ts';
import { describeCleanupPolicyRepository } from './describe-cleanup-policy-repository.ts';
import { describeJobRepository } from './describe-job-repository.ts';
import { describePullPolicyRepository } from './describe-pull-policy-repository.ts';
import { describeRegistryRepository } from './describe-registry-repository.ts';
import { describeUpstreamRepository } from './describe-upstream-repository.ts';

/** Opens an empty store; each test gets its own (own database, own file). */
export type MakeCatalogStore = () => Promise<CatalogStore>;

/**
 * The contract every `CatalogStore` adapter passes: run against the memory
 * and SQLite stores in unit tests and against a MongoDB-wire server
 * (MongoDB or FerretDB) in integration tests. (distribution's storage
 * driver `testsuites`.)
 */
export function describeCatalogStore(label: string, makeStore: MakeCatalogStore): void {
  describe(`${label} honours the CatalogStore contract`, () => {
    let store: CatalogStore | undefined;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });
    const current = (): CatalogStore => {
      if (store === undefined) throw new Error('the store is only available inside a test');
      return store;
    };
    describeRegistryRepository(current);
    describeUpstreamRepository(current);
    describeCacheEntryRepository(current);
    describeAccessTokenRepository(current);
    describeJobRepository(current);
    describeCacheEntryLifecycle(current);
    describeCleanupPolicyRepository(current);
    describePullPolicyRepository(current);
  });
}
