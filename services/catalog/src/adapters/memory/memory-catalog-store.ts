import { ConflictError } from '@vreg/contracts';
import {
  type ActivityPageQuery,
  type CacheEntry,
  type CacheEntryKey,
  type CacheEntryListQuery,
  type CacheEntrySelector,
  type CacheEntrySort,
  type CacheEntryWrite,
  compareByActivity,
  compareByKey,
  type EntryTotals,
  lastActivityOf,
  type UpsertOutcome,
  type UpstreamLiveUsage,
} from '../../domain/cache-entry.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import {
  DEFAULT_REGISTRY_VISIBILITY,
  type NewRegistry,
  type Registry,
  type RegistryFilter,
  type RegistryPatch,
} from '../../domain/registry.ts';
import type { NewUpstream, Upstream, UpstreamPatch } from '../../domain/upstream.ts';
import { planUpstreamOrder, sortByPosition } from '../../domain/upstream-order.ts';
import type { AccessTokenRepository } from '../../ports/access-token-repository.ts';
import type { CacheEntryRepository } from '../../ports/cache-entry-repository.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { CleanupPolicyRepository } from '../../ports/cleanup-policy-repository.ts';
import type { GcCandidateRepository } from '../../ports/gc-candidate-repository.ts';
import type { JobRepository } from '../../ports/job-repository.ts';
import type { MirrorHostRepository } from '../../ports/mirror-host-repository.ts';
import type { PolicyDenialRepository } from '../../ports/policy-denial-repository.ts';
import type { PullPolicyRepository } from '../../ports/pull-policy-repository.ts';
import type { RegistryRepository } from '../../ports/registry-repository.ts';
import type { UpstreamRepository } from '../../ports/upstream-repository.ts';
import { MemoryAccessTokenRepository } from './memory-access-token-repository.ts';
import { MemoryCleanupPolicyRepository } from './memory-cleanup-policy-repository.ts';
import { MemoryGcCandidateRepository } from './memory-gc-candidate-repository.ts';
import { MemoryJobRepository } from './memory-job-repository.ts';
import { MemoryMirrorHostRepository } from './memory-mirror-host-repository.ts';
import { MemoryPolicyDenialRepository, MemoryPullPolicyRepository } from './memory-pull-policy-repositories.ts';

/** Drops keys whose value is undefined, so patched objects keep the "absent, not undefined" shape. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

class MemoryRegistryRepository implements RegistryRepository {
  readonly #rows = new Map<string, Registry>();
  #lastId = 0;

  async create(input: NewRegistry): Promise<Registry> {
    this.#assertNameFree(input.name);
    const now = new Date();
    const registry = compact<Registry>({
      id: String(++this.#lastId),
      name: input.name,
      description: input.description,
      visibility: input.visibility ?? DEFAULT_REGISTRY_VISIBILITY,
      maxStoredBytes: input.maxStoredBytes,
      createdAt: now,
      updatedAt: now,
    });
    this.#rows.set(registry.id, registry);
    return registry;
  }

  async get(id: string): Promise<Registry | undefined> {
    return this.#rows.get(id);
  }

  async list(page: PageRequest, filter: RegistryFilter = {}): Promise<Page<Registry>> {
    const wanted = filter.ids === undefined ? undefined : new Set(filter.ids);
    const all = [...this.#rows.values()]
      .filter((r) => wanted === undefined || wanted.has(r.id))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }

  async update(id: string, patch: RegistryPatch): Promise<Registry | undefined> {
    const current = this.#rows.get(id);
    if (current === undefined) return undefined;
    if (patch.name !== undefined && patch.name !== current.name) this.#assertNameFree(patch.name);
    const description = patch.description === null ? undefined : (patch.description ?? current.description);
    const maxStoredBytes = patch.maxStoredBytes === null ? undefined : (patch.maxStoredBytes ?? current.maxStoredBytes);
    const next = compact<Registry>({
      ...current,
      name: patch.name ?? current.name,
      description,
      visibility: patch.visibility ?? current.visibility,
      maxStoredBytes,
      updatedAt: new Date(),
    });
    this.#rows.set(id, next);
    return next;
  }

  async delete(id: string): Promise<boolean> {
    return this.#rows.delete(id);
  }

  #assertNameFree(name: string): void {
    for (const r of this.#rows.values()) {
      if (r.name === name) throw new ConflictError('a registry with this name already exists', { field: 'name' });
    }
  }
}

class MemoryUpstreamRepository implements UpstreamRepository {
  readonly #rows = new Map<string, Upstream>();
  #lastId = 0;

  async create(input: NewUpstream): Promise<Upstream> {
    const now = new Date();
    const siblings = await this.listByRegistry(input.registryId);
    const upstream = compact<Upstream>({
      id: String(++this.#lastId),
      registryId: input.registryId,
      name: input.name,
      url: input.url,
      username: input.username,
      passwordSealed: input.passwordSealed,
      cacheValidityHours: input.cacheValidityHours,
      libraryPrefix: input.libraryPrefix === true,
      maxBlobSizeBytes: input.maxBlobSizeBytes,
      position: siblings.length,
      createdAt: now,
      updatedAt: now,
    });
    this.#rows.set(upstream.id, upstream);
    if (input.position !== undefined) this.#reorder(upstream.registryId, { id: upstream.id, to: input.position });
    return this.#rows.get(upstream.id) as Upstream;
  }

  async get(id: string): Promise<Upstream | undefined> {
    return this.#rows.get(id);
  }

  async listByRegistry(registryId: string): Promise<Upstream[]> {
    return sortByPosition([...this.#rows.values()].filter((u) => u.registryId === registryId));
  }

  async update(id: string, patch: UpstreamPatch): Promise<Upstream | undefined> {
    const current = this.#rows.get(id);
    if (current === undefined) return undefined;
    const next = compact<Upstream>({
      ...current,
      name: patch.name ?? current.name,
      url: patch.url ?? current.url,
      username: patch.username === null ? undefined : (patch.username ?? current.username),
      passwordSealed: patch.passwordSealed === null ? undefined : (patch.passwordSealed ?? current.passwordSealed),
      cacheValidityHours: patch.cacheValidityHours ?? current.cacheValidityHours,
      libraryPrefix: patch.libraryPrefix ?? current.libraryPrefix,
      maxBlobSizeBytes: patch.maxBlobSizeBytes === null ? undefined : (patch.maxBlobSizeBytes ?? current.maxBlobSizeBytes),
      updatedAt: new Date(),
    });
    this.#rows.set(id, next);
    if (patch.position !== undefined) this.#reorder(current.registryId, { id, to: patch.position });
    return this.#rows.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const current = this.#rows.get(id);
    if (current === undefined) return false;
    this.#rows.delete(id);
    this.#reorder(current.registryId);
    return true;
  }

  #reorder(registryId: string, move?: { id: string; to: number }): void {
    const siblings = [...this.#rows.values()].filter((u) => u.registryId === registryId);
    for (const change of planUpstreamOrder(siblings, move)) {
      const row = this.#rows.get(change.id);
      if (row !== undefined) this.#rows.set(change.id, { ...row, position: change.position });
    }
  }
}

class MemoryCacheEntryRepository implements CacheEntryRepository {
  readonly #rows = new Map<string, CacheEntry>();

  /** The rows themselves, for the memory GC repository, which counts references over them as the other stores' queries do. */
  rows(): Map<string, CacheEntry> {
    return this.#rows;
  }

  async upsert(entry: CacheEntryWrite): Promise<UpsertOutcome> {
    const key = keyOf(entry.upstreamId, entry.relativePath);
    const current = this.#rows.get(key);
    if (current !== undefined && current.upstreamCheckedAt.getTime() >= entry.upstreamCheckedAt.getTime()) return 'ignored';
    const now = new Date();
    this.#rows.set(
      key,
      compact<CacheEntry>({
        upstreamId: entry.upstreamId,
        registryId: entry.registryId,
        relativePath: entry.relativePath,
        digest: entry.digest,
        contentType: entry.contentType,
        size: entry.size,
        upstreamEtag: entry.upstreamEtag,
        upstreamCheckedAt: new Date(entry.upstreamCheckedAt),
        downloadsCount: current?.downloadsCount ?? 0,
        downloadedAt: current?.downloadedAt,
        status: 'default',
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
      }),
    );
    return current === undefined ? 'inserted' : 'updated';
  }

  async findFirst(upstreamIdsInOrder: readonly string[], relativePath: string): Promise<CacheEntry | undefined> {
    for (const upstreamId of upstreamIdsInOrder) {
      const entry = this.#rows.get(keyOf(upstreamId, relativePath));
      if (entry?.status === 'default') return entry;
    }
    return undefined;
  }

  async listByUpstream(upstreamId: string, page: PageRequest): Promise<Page<CacheEntry>> {
    const all = [...this.#rows.values()]
      .filter((e) => e.upstreamId === upstreamId)
      .sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }

  async recordDownloads(upstreamId: string, relativePath: string, count: number, downloadedAt: Date): Promise<boolean> {
    const key = keyOf(upstreamId, relativePath);
    const current = this.#rows.get(key);
    if (current === undefined) return false;
    const latest =
      current.downloadedAt === undefined || current.downloadedAt < downloadedAt ? new Date(downloadedAt) : current.downloadedAt;
    this.#rows.set(key, { ...current, downloadsCount: current.downloadsCount + count, downloadedAt: latest });
    return true;
  }

  async get(upstreamId: string, relativePath: string): Promise<CacheEntry | undefined> {
    return this.#rows.get(keyOf(upstreamId, relativePath));
  }

  async listByRegistry(registryId: string, query: CacheEntryListQuery, page: PageRequest): Promise<Page<CacheEntry>> {
    const all = [...this.#rows.values()]
      .filter((e) => e.registryId === registryId && (query.search === undefined || e.relativePath.includes(query.search)))
      .sort(compareBy(query.sort));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }

  async findAll(selector: CacheEntrySelector): Promise<CacheEntry[]> {
    return [...this.#rows.values()].filter(
      (e) =>
        (selector.registryId === undefined || e.registryId === selector.registryId) &&
        (selector.upstreamId === undefined || e.upstreamId === selector.upstreamId) &&
        (selector.status === undefined || e.status === selector.status) &&
        (selector.pathPrefix === undefined || e.relativePath.startsWith(selector.pathPrefix)) &&
        (selector.relativePath === undefined || e.relativePath === selector.relativePath),
    );
  }

  async findPage(selector: CacheEntrySelector, after: CacheEntryKey | undefined, limit: number): Promise<CacheEntry[]> {
    return (await this.findAll(selector))
      .filter((e) => after === undefined || compareByKey(e, after) > 0)
      .sort(compareByKey)
      .slice(0, limit);
  }

  async measure(selector: CacheEntrySelector & { lastActivityBefore?: Date }): Promise<EntryTotals> {
    const { lastActivityBefore: before, ...rest } = selector;
    const matching = (await this.findAll(rest)).filter((e) => before === undefined || lastActivityOf(e).getTime() < before.getTime());
    return { entries: matching.length, bytes: matching.reduce((sum, e) => sum + e.size, 0) };
  }

  async findByLeastRecentActivity(query: ActivityPageQuery): Promise<CacheEntry[]> {
    const { after, before } = query;
    const afterEntry = after === undefined ? undefined : { ...after, downloadedAt: after.lastActivityAt, createdAt: after.lastActivityAt };
    return (await this.findAll({ registryId: query.registryId, status: 'default' }))
      .filter(
        (e) =>
          (before === undefined || lastActivityOf(e).getTime() < before.getTime()) &&
          (afterEntry === undefined || compareByActivity(e, afterEntry) > 0),
      )
      .sort(compareByActivity)
      .slice(0, query.limit);
  }

  async liveUsageByUpstream(registryId: string): Promise<UpstreamLiveUsage[]> {
    // Grouped by (upstream, digest, size), as the SQL and MongoDB stores do.
    const stored = new Map<string, Set<string>>();
    const totals = new Map<string, UpstreamLiveUsage>();
    for (const e of await this.findAll({ registryId, status: 'default' })) {
      const seen = stored.get(e.upstreamId) ?? new Set<string>();
      stored.set(e.upstreamId, seen);
      const total = totals.get(e.upstreamId) ?? { upstreamId: e.upstreamId, storedBytes: 0, entriesCount: 0 };
      totals.set(e.upstreamId, total);
      total.entriesCount += 1;
      if (!seen.has(`${e.digest}\u0000${e.size}`)) {
        seen.add(`${e.digest}\u0000${e.size}`);
        total.storedBytes += e.size;
      }
    }
    return [...totals.values()];
  }

  async hasLiveDigest(upstreamId: string, digest: string): Promise<boolean> {
    for (const e of this.#rows.values()) if (e.upstreamId === upstreamId && e.digest === digest && e.status === 'default') return true;
    return false;
  }

  async markPendingDestruction(upstreamId: string, relativePath: string): Promise<boolean> {
    const key = keyOf(upstreamId, relativePath);
    const current = this.#rows.get(key);
    if (current?.status !== 'default') return false;
    this.#rows.set(key, { ...current, status: 'pending_destruction', updatedAt: new Date() });
    return true;
  }

  async countByUpstream(upstreamId: string): Promise<number> {
    return [...this.#rows.values()].filter((e) => e.upstreamId === upstreamId).length;
  }

  async deleteByUpstream(upstreamId: string): Promise<number> {
    let deleted = 0;
    for (const [key, entry] of this.#rows) {
      if (entry.upstreamId === upstreamId) {
        this.#rows.delete(key);
        deleted += 1;
      }
    }
    return deleted;
  }
}

/** The order the SQL and MongoDB stores sort in: missing `downloadedAt` first when ascending; ties by path, then upstream. */
function compareBy(sort: CacheEntrySort): (a: CacheEntry, b: CacheEntry) => number {
  const descending = sort.startsWith('-');
  const field = descending ? sort.slice(1) : sort;
  const valueOf = (e: CacheEntry): number | string =>
    field === 'size' ? e.size : field === 'downloaded_at' ? (e.downloadedAt?.getTime() ?? -Infinity) : e.relativePath;
  const order = (x: number | string, y: number | string): number => (x < y ? -1 : x > y ? 1 : 0);
  return (a, b) =>
    (descending ? -1 : 1) * order(valueOf(a), valueOf(b)) ||
    order(a.relativePath, b.relativePath) ||
    Number(a.upstreamId) - Number(b.upstreamId);
}

function keyOf(upstreamId: string, relativePath: string): string {
  return `${upstreamId}\u0000${relativePath}`;
}

/** The catalog in process memory, for unit tests: same contract as the SQLite and MongoDB stores. */
export class MemoryCatalogStore implements CatalogStore {
  readonly registries: RegistryRepository = new MemoryRegistryRepository();
  readonly upstreams: UpstreamRepository = new MemoryUpstreamRepository();
  readonly #entries = new MemoryCacheEntryRepository();
  readonly cacheEntries: CacheEntryRepository = this.#entries;
  readonly gcCandidates: GcCandidateRepository = new MemoryGcCandidateRepository(this.#entries);
  readonly accessTokens: AccessTokenRepository = new MemoryAccessTokenRepository();
  readonly jobs: JobRepository = new MemoryJobRepository();
  readonly cleanupPolicies: CleanupPolicyRepository = new MemoryCleanupPolicyRepository();
  readonly mirrorHosts: MirrorHostRepository = new MemoryMirrorHostRepository();
  readonly pullPolicies: PullPolicyRepository = new MemoryPullPolicyRepository();
  readonly policyDenials: PolicyDenialRepository = new MemoryPolicyDenialRepository();

  async close(): Promise<void> {}
}
