import type { CatalogStore } from '../ports/catalog-store.ts';
import { CleanupPolicies } from './cleanup-policies.ts';
import { PurgeJobs } from './purge-jobs.ts';
import { RegistryUsageReader } from './registry-usage.ts';

/** The lifecycle use cases the admin API calls: purge, cleanup policies, usage. */
export interface LifecycleServices {
  readonly purge: PurgeJobs;
  readonly cleanup: CleanupPolicies;
  readonly usage: RegistryUsageReader;
  /** A registry's `max_stored_bytes` was set: enforce it soon rather than at the next sweep. */
  readonly quotaChanged?: (registryId: string) => void;
}

/** Builds them over one store; `onQueued` wakes the local job worker after a job is queued. */
export function createLifecycleServices(
  store: CatalogStore,
  onQueued?: () => void,
  quotaChanged?: (registryId: string) => void,
): LifecycleServices {
  return {
    ...(quotaChanged === undefined ? {} : { quotaChanged }),
    purge: new PurgeJobs({ store, ...(onQueued === undefined ? {} : { onQueued }) }),
    cleanup: new CleanupPolicies({ store, ...(onQueued === undefined ? {} : { onQueued }) }),
    usage: new RegistryUsageReader(store),
  };
}
