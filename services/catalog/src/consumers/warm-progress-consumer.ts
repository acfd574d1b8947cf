import type { ConsumeSpec, Delivery, EventBus, Subscription } from '@vreg/bus';
import { Consumers, Streams, Subjects, WarmProgressSchema, type WarmProgress, type WarmResult } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { isFinished, type JobData, type JobPatch } from '../domain/job.ts';
import type { JobRepository } from '../ports/job-repository.ts';
import { eventTime } from './event-time.ts';

export interface WarmProgressConsumerDeps {
  jobs: JobRepository;
  logger: Logger;
}

/** What a job's `result` shows for a finished warm (snake_case like the rest of the API). */
export function warmResultJson(result: WarmResult): JobData {
  return {
    digest: result.digest,
    media_type: result.mediaType,
    platforms: result.platforms,
    manifests: result.manifests,
    blobs: result.blobs,
    objects_downloaded: result.objectsDownloaded,
    objects_already_cached: result.objectsAlreadyCached,
    bytes_downloaded: result.bytesDownloaded,
  };
}

/**
 * Applies the fetcher's `warm.progress` snapshots to `warm` jobs (stream
 * `VREG_WARM_PROGRESS`, durable `catalog-warm-progress`). Snapshots are
 * absolute, so redelivery is harmless: a finished job never changes again,
 * counters never move backwards (a retried attempt starts counting anew),
 * and an error already listed is not listed twice. One at a time per
 * process, so one fetcher's ordered snapshots are applied in order.
 */
export class WarmProgressConsumer {
  readonly spec: ConsumeSpec<WarmProgress>;
  readonly #jobs: JobRepository;
  readonly #logger: Logger;

  constructor(deps: WarmProgressConsumerDeps) {
    this.#jobs = deps.jobs;
    this.#logger = deps.logger.child({ component: 'warm-progress-consumer' });
    this.spec = {
      stream: Streams.warmProgress.name,
      consumer: Consumers.catalogWarmProgress,
      subject: Subjects.warmProgress,
      schema: WarmProgressSchema,
      concurrency: 1,
    };
  }

  start(bus: EventBus): Promise<Subscription> {
    return bus.consume(this.spec, async (delivery) => {
      await this.handle(delivery);
    });
  }

  /** Handles one snapshot; resolves whether the job changed. */
  readonly handle = async (delivery: Delivery<WarmProgress>): Promise<boolean> => {
    const event = delivery.data;
    const at = eventTime(event.at, 'at');
    const job = await this.#jobs.get(event.jobId);
    if (job === undefined || job.kind !== 'warm' || isFinished(job)) {
      this.#logger.debug({ jobId: event.jobId, state: event.state }, 'warm progress for an unknown or finished job dropped');
      return false;
    }
    const patch: JobPatch = {};
    if (job.state === 'queued') {
      patch.state = 'running';
      patch.startedAt = at;
    }
    const ending = event.state !== 'running';
    if (ending || event.objectsDone >= job.progress.objectsDone) {
      patch.progress = { objectsDone: event.objectsDone, objectsTotal: event.objectsTotal ?? null, bytesDone: event.bytesDone, bytesTotal: event.bytesTotal ?? null };
    }
    const fresh = event.errors.filter((e) => !job.errors.includes(e));
    if (fresh.length > 0) patch.appendErrors = fresh;
    if (ending) {
      patch.state = event.state;
      patch.finishedAt = at;
      if (job.startedAt === null) patch.startedAt = at;
      if (event.result) patch.result = warmResultJson(event.result);
    }
    if (Object.keys(patch).length === 0) return false;
    await this.#jobs.update(job.id, patch);
    return true;
  };
}
