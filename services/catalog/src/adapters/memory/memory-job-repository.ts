import { applyJobPatch, type Job, type JobFilter, type JobKind, type JobPatch, type NewJob, newJobRecord } from '../../domain/job.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { JobRepository } from '../../ports/job-repository.ts';

/** Jobs in process memory, for unit tests and the embedded runner's tests: same contract as the SQLite and MongoDB stores. */
export class MemoryJobRepository implements JobRepository {
  readonly #rows = new Map<string, Job>();
  #lastId = 0;

  async create(input: NewJob): Promise<Job> {
    const job = newJobRecord(String(++this.#lastId), input, new Date());
    this.#rows.set(job.id, job);
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#rows.get(id);
  }

  async list(filter: JobFilter, page: PageRequest): Promise<Page<Job>> {
    const all = [...this.#rows.values()]
      .filter(
        (j) =>
          (filter.kind === undefined || j.kind === filter.kind) &&
          (filter.registryId === undefined || j.registryId === filter.registryId) &&
          (filter.registryIds === undefined || (j.registryId !== null && filter.registryIds.includes(j.registryId))) &&
          (filter.state === undefined || j.state === filter.state),
      )
      .sort((a, b) => Number(b.id) - Number(a.id));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }

  async update(id: string, patch: JobPatch): Promise<Job | undefined> {
    const current = this.#rows.get(id);
    if (current === undefined) return undefined;
    const next = applyJobPatch(current, patch, new Date());
    this.#rows.set(id, next);
    return next;
  }

  async updateIfUnchanged(id: string, seen: Pick<Job, 'state' | 'updatedAt'>, patch: JobPatch): Promise<Job | undefined> {
    const current = this.#rows.get(id);
    if (current === undefined || current.state !== seen.state || current.updatedAt.getTime() !== seen.updatedAt.getTime()) return undefined;
    return this.update(id, patch);
  }

  async claimQueued(kind: JobKind, at: Date): Promise<Job | undefined> {
    // One event loop: the find and the write cannot interleave with another claim.
    const oldest = [...this.#rows.values()]
      .filter((j) => j.kind === kind && j.state === 'queued')
      .sort((a, b) => Number(a.id) - Number(b.id))[0];
    if (oldest === undefined) return undefined;
    const claimed = applyJobPatch(oldest, { state: 'running', startedAt: new Date(at) }, new Date());
    this.#rows.set(claimed.id, claimed);
    return claimed;
  }
}
