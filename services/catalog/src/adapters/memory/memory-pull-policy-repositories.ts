import type { PullPolicy } from '@vreg/contracts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { PolicyDenial, PolicyDenialQuery, PolicyDenialRetention, StoredPullPolicy } from '../../domain/pull-policy.ts';
import type { PolicyDenialRepository } from '../../ports/policy-denial-repository.ts';
import type { PullPolicyRepository } from '../../ports/pull-policy-repository.ts';

export class MemoryPullPolicyRepository implements PullPolicyRepository {
  readonly #rows = new Map<string, StoredPullPolicy>();

  async get(registryId: string): Promise<StoredPullPolicy | undefined> {
    const row = this.#rows.get(registryId);
    return row && structuredClone(row);
  }

  async put(registryId: string, policy: PullPolicy): Promise<StoredPullPolicy> {
    const now = new Date();
    const row: StoredPullPolicy = {
      registryId,
      policy: structuredClone(policy),
      createdAt: this.#rows.get(registryId)?.createdAt ?? now,
      updatedAt: now,
    };
    this.#rows.set(registryId, row);
    return structuredClone(row);
  }

  async delete(registryId: string): Promise<boolean> {
    return this.#rows.delete(registryId);
  }
}

/** Newest first: by time, then id. */
export function compareDenials(a: PolicyDenial, b: PolicyDenial): number {
  return b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export class MemoryPolicyDenialRepository implements PolicyDenialRepository {
  readonly #rows = new Map<string, PolicyDenial>();

  async add(denial: PolicyDenial): Promise<void> {
    // Absent, not undefined: the same shape the other stores read back.
    if (!this.#rows.has(denial.id))
      this.#rows.set(
        denial.id,
        Object.fromEntries(Object.entries(structuredClone(denial)).filter(([, v]) => v !== undefined)) as unknown as PolicyDenial,
      );
  }

  async list(query: PolicyDenialQuery, page: PageRequest): Promise<Page<PolicyDenial>> {
    const ids = query.registryIds === undefined ? undefined : new Set(query.registryIds);
    const all = [...this.#rows.values()].filter((d) => ids === undefined || ids.has(d.registryId)).sort(compareDenials);
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage).map((d) => structuredClone(d)), total: all.length };
  }

  async prune(retention: PolicyDenialRetention, now: Date): Promise<number> {
    const cutoff = now.getTime() - retention.maxAgeMs;
    const sorted = [...this.#rows.values()].sort(compareDenials);
    let removed = 0;
    sorted.forEach((d, i) => {
      if (i >= retention.maxRecords || d.at.getTime() < cutoff) {
        this.#rows.delete(d.id);
        removed++;
      }
    });
    return removed;
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    let removed = 0;
    for (const [id, d] of this.#rows) {
      if (d.registryId !== registryId) continue;
      this.#rows.delete(id);
      removed++;
    }
    return removed;
  }
}
