import type { CleanupPolicy, CleanupPolicyRunUpdate, CleanupPolicySettings, CleanupRun, NewCleanupRun } from '../domain/cleanup-policy.ts';
import type { Page, PageRequest } from '../domain/page.ts';

/** Cleanup policies (one per registry) and the audit records of their runs. */
export interface CleanupPolicyRepository {
  /** The registry's policy, or undefined. */
  get(registryId: string): Promise<CleanupPolicy | undefined>;

  /** Creates or replaces the registry's policy (last-run fields of a replaced one are kept, see `settlePolicy`). */
  put(registryId: string, settings: CleanupPolicySettings): Promise<CleanupPolicy>;

  /** Deletes the registry's policy; true when there was one. Its runs stay as audit records. */
  delete(registryId: string): Promise<boolean>;

  /**
   * Claims the enabled policies due at `now` (`nextRunAt <= now`): each
   * claimed policy's `nextRunAt` moves to `now + cadence` and its status to
   * `running`, and it is returned. Atomic across processes: when several
   * catalog replicas race, each due run goes to exactly one of them.
   */
  claimDue(now: Date): Promise<CleanupPolicy[]>;

  /** Records the state of a run on the policy; undefined when it was deleted meanwhile. */
  recordRun(registryId: string, update: CleanupPolicyRunUpdate): Promise<CleanupPolicy | undefined>;

  /** Stores an audit record with the next free id. */
  addRun(run: NewCleanupRun): Promise<CleanupRun>;

  /** One page of the registry's runs, newest first, and their total. */
  listRuns(registryId: string, page: PageRequest): Promise<Page<CleanupRun>>;
}
