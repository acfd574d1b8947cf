import {
  applyRunUpdate,
  type CleanupPolicy,
  type CleanupPolicyRunUpdate,
  type CleanupPolicySettings,
  type CleanupRun,
  claimPolicyRun,
  type NewCleanupRun,
  settlePolicy,
} from '../../domain/cleanup-policy.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { CleanupPolicyRepository } from '../../ports/cleanup-policy-repository.ts';

/** Cleanup policies and runs in process memory: same contract as the SQLite and MongoDB stores. */
export class MemoryCleanupPolicyRepository implements CleanupPolicyRepository {
  readonly #policies = new Map<string, CleanupPolicy>();
  readonly #runs: CleanupRun[] = [];
  #lastRunId = 0;

  async get(registryId: string): Promise<CleanupPolicy | undefined> {
    return this.#policies.get(registryId);
  }

  async put(registryId: string, settings: CleanupPolicySettings): Promise<CleanupPolicy> {
    const policy = settlePolicy(registryId, settings, this.#policies.get(registryId), new Date());
    this.#policies.set(registryId, policy);
    return policy;
  }

  async delete(registryId: string): Promise<boolean> {
    return this.#policies.delete(registryId);
  }

  async claimDue(now: Date): Promise<CleanupPolicy[]> {
    // One event loop: nothing interleaves between the check and the move.
    const claimed: CleanupPolicy[] = [];
    for (const policy of this.#policies.values()) {
      if (!policy.enabled || policy.nextRunAt.getTime() > now.getTime()) continue;
      const next = claimPolicyRun(policy, now, new Date());
      this.#policies.set(policy.registryId, next);
      claimed.push(next);
    }
    return claimed;
  }

  async recordRun(registryId: string, update: CleanupPolicyRunUpdate): Promise<CleanupPolicy | undefined> {
    const current = this.#policies.get(registryId);
    if (current === undefined) return undefined;
    const next = applyRunUpdate(current, update, new Date());
    this.#policies.set(registryId, next);
    return next;
  }

  async addRun(run: NewCleanupRun): Promise<CleanupRun> {
    const stored = { ...run, id: String(++this.#lastRunId) };
    this.#runs.push(stored);
    return stored;
  }

  async listRuns(registryId: string, page: PageRequest): Promise<Page<CleanupRun>> {
    const all = this.#runs.filter((r) => r.registryId === registryId).sort((a, b) => Number(b.id) - Number(a.id));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }
}
