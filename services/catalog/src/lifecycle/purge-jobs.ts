import { NotFoundError, ValidationError } from '@vreg/contracts';
import { isRepositoryName, isTag } from '@vreg/oci';
import type { CacheEntrySelector, EntryTotals } from '../domain/cache-entry.ts';
import { cacheEntryIdOf, parseCacheEntryId } from '../domain/cache-entry-id.ts';
import type { Job, JobData } from '../domain/job.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { concatPages, pagesOf, SWEEP_BATCH } from './entry-batches.ts';
import { markEntries } from './entry-marker.ts';
import type { JobHandler, JobReporter } from './job-worker.ts';

/** Narrows a registry purge to one image, or one tag of it. */
export interface ImageScope {
  image?: string;
  tag?: string;
}

export interface PurgeJobsDeps {
  store: Pick<CatalogStore, 'registries' | 'upstreams' | 'cacheEntries' | 'jobs'>;
  /** Called after a job is queued, so a local worker can start it at once. */
  onQueued?: () => void;
  /** Entries read per query while marking (default `SWEEP_BATCH`). */
  batchSize?: number;
}

/**
 * Purges: `DELETE /registries/:id/cache` (optionally one image or tag),
 * `/upstreams/:id/cache` and `/cache_entries/:id` queue a purge job; the
 * job (`handler`, run by the job worker) marks the entries
 * `pending_destruction`, so they are no longer served; the destruction
 * worker deletes the rows and GC the unreferenced objects.
 */
export class PurgeJobs {
  readonly #deps: PurgeJobsDeps;
  readonly handler: JobHandler = (job, reporter) => this.#run(job, reporter);

  constructor(deps: PurgeJobsDeps) {
    this.#deps = deps;
  }

  /** @throws NotFoundError (registry), ValidationError (image/tag) */
  async purgeRegistry(registryId: string, scope: ImageScope = {}): Promise<Job> {
    if (scope.tag !== undefined && scope.image === undefined) throw new ValidationError('tag needs image', { field: 'tag' });
    if (scope.image !== undefined && !isRepositoryName(scope.image))
      throw new ValidationError('image is not a repository name', { field: 'image' });
    if (scope.tag !== undefined && !isTag(scope.tag)) throw new ValidationError('tag is not a valid tag', { field: 'tag' });
    if ((await this.#deps.store.registries.get(registryId)) === undefined) throw new NotFoundError('registry not found', { registryId });
    return this.#queue(registryId, {
      registry_id: registryId,
      ...(scope.image === undefined ? {} : { image: scope.image }),
      ...(scope.tag === undefined ? {} : { tag: scope.tag }),
    });
  }

  /** @throws NotFoundError */
  async purgeUpstream(upstreamId: string): Promise<Job> {
    const upstream = await this.#deps.store.upstreams.get(upstreamId);
    if (upstream === undefined) throw new NotFoundError('upstream not found', { upstreamId });
    return this.#queue(upstream.registryId, { upstream_id: upstreamId });
  }

  /** @throws NotFoundError when no entry has this id */
  async purgeEntry(entryId: string): Promise<Job> {
    const key = parseCacheEntryId(entryId);
    const entry = key === undefined ? undefined : await this.#deps.store.cacheEntries.get(key.upstreamId, key.relativePath);
    if (entry === undefined) throw new NotFoundError('cache entry not found', { entryId });
    return this.#queue(entry.registryId, { entry_id: cacheEntryIdOf(entry) });
  }

  async #queue(registryId: string, params: JobData): Promise<Job> {
    const job = await this.#deps.store.jobs.create({ kind: 'purge', registryId, params });
    this.#deps.onQueued?.();
    return job;
  }

  async #run(job: Job, reporter: JobReporter): Promise<JobData> {
    const entries = this.#deps.store.cacheEntries;
    const selectors = this.#targets(job.params);
    // Measured by the store, then marked a batch at a time: never the whole registry in memory.
    const totals: EntryTotals = { entries: 0, bytes: 0 };
    for (const selector of selectors) {
      const t = await entries.measure(selector);
      totals.entries += t.entries;
      totals.bytes += t.bytes;
    }
    const batchSize = this.#deps.batchSize ?? SWEEP_BATCH;
    const outcome = await markEntries(entries, concatPages(...selectors.map((s) => pagesOf(entries, s, batchSize))), totals, reporter);
    return { entries_marked: outcome.entries, bytes_marked: outcome.bytes };
  }

  /** Selectors of the live entries the job's params name. */
  #targets(params: JobData): CacheEntrySelector[] {
    const text = (key: string): string | undefined => (typeof params[key] === 'string' ? (params[key] as string) : undefined);
    const entryId = text('entry_id');
    if (entryId !== undefined) {
      const key = parseCacheEntryId(entryId);
      return key === undefined ? [] : [{ upstreamId: key.upstreamId, relativePath: key.relativePath, status: 'default' }];
    }
    const upstreamId = text('upstream_id');
    if (upstreamId !== undefined) return [{ upstreamId, status: 'default' }];
    const registryId = text('registry_id');
    if (registryId === undefined) throw new Error('purge job names no registry, upstream or entry');
    const image = text('image');
    const tag = text('tag');
    if (image === undefined) return [{ registryId, status: 'default' }];
    // That tag's manifest entry only, in every upstream of the registry.
    if (tag !== undefined) return [{ registryId, status: 'default', relativePath: `${image}/manifests/${tag}` }];
    // The image's manifests (tags and digests) and its blob entries: blob
    // paths carry the image name, so other images' entries of a shared
    // digest stay.
    return [
      { registryId, status: 'default', pathPrefix: `${image}/manifests/` },
      { registryId, status: 'default', pathPrefix: `${image}/blobs/` },
    ];
  }
}
