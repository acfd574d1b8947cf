import type { PullPolicy } from '@vreg/contracts';
import type { StoredPullPolicy } from '../domain/pull-policy.ts';

/** Pull policies, one per registry. */
export interface PullPolicyRepository {
  /** The registry's policy, or undefined (also for ids that are not positive integers). */
  get(registryId: string): Promise<StoredPullPolicy | undefined>;

  /** Creates or replaces the registry's policy; `createdAt` of a replaced one is kept. */
  put(registryId: string, policy: PullPolicy): Promise<StoredPullPolicy>;

  /** Deletes the registry's policy; true when there was one. */
  delete(registryId: string): Promise<boolean>;
}
