import type { Page, PageRequest } from '../domain/page.ts';
import type { PolicyDenial, PolicyDenialQuery, PolicyDenialRetention } from '../domain/pull-policy.ts';

/** The records of pull-policy refusals, bounded by `prune`. */
export interface PolicyDenialRepository {
  /** Stores a record; a second one with the same `id` (a redelivered event) is ignored. */
  add(denial: PolicyDenial): Promise<void>;

  /** One page of the records the query selects, newest first (by `at`, then `id`), and their total. */
  list(query: PolicyDenialQuery, page: PageRequest): Promise<Page<PolicyDenial>>;

  /** Deletes records older than `now - maxAgeMs` and those past the newest `maxRecords`; resolves how many went. */
  prune(retention: PolicyDenialRetention, now: Date): Promise<number>;

  /** Deletes a registry's records (the registry was deleted); resolves how many went. */
  deleteByRegistry(registryId: string): Promise<number>;
}
