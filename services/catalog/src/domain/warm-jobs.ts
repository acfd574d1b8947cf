import { randomUUID } from 'node:crypto';
import { NotFoundError, type WarmPlatforms } from '@vreg/contracts';
import type { JobRepository } from '../ports/job-repository.ts';
import type { RegistryRepository } from '../ports/registry-repository.ts';
import type { WarmDispatcher } from '../ports/warm-dispatcher.ts';
import type { Job } from './job.ts';

export interface WarmJobsDeps {
  jobs: JobRepository;
  registries: RegistryRepository;
  dispatcher: WarmDispatcher;
}

/** What to warm: an image's tag, for every platform or the listed ones. */
export interface WarmRequest {
  image: string;
  tag: string;
  platforms: WarmPlatforms;
}

/**
 * Starts warm-up jobs: records a `queued` job of kind `warm` and sends the
 * fetchers the command. The fetcher's `warm.progress` reports move the job
 * on (see WarmProgressConsumer).
 */
export class WarmJobs {
  readonly #deps: WarmJobsDeps;

  constructor(deps: WarmJobsDeps) {
    this.#deps = deps;
  }

  /**
   * @throws NotFoundError when the registry does not exist
   * @throws FetcherUnavailableError when the command cannot be queued (the job is then failed)
   */
  async start(registryId: string, request: WarmRequest): Promise<Job> {
    if ((await this.#deps.registries.get(registryId)) === undefined) throw new NotFoundError('registry not found', { registryId });
    const job = await this.#deps.jobs.create({
      kind: 'warm',
      registryId,
      params: { registry_id: registryId, image: request.image, tag: request.tag, platforms: request.platforms },
    });
    try {
      await this.#deps.dispatcher.dispatch({
        eventId: randomUUID(),
        jobId: job.id,
        registryId,
        image: request.image,
        tag: request.tag,
        platforms: request.platforms,
        requestedAt: job.createdAt.toISOString(),
      });
    } catch (err) {
      const now = new Date();
      await this.#deps.jobs.update(job.id, { state: 'failed', appendErrors: [(err as Error).message], finishedAt: now });
      throw err;
    }
    return job;
  }
}
