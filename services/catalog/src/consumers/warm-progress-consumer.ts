import type { ConsumeSpec, Delivery, EventBus, Subscription } from '@vreg/bus';
import { Consumers, Streams, Subjects, type WarmProgress, WarmProgressSchema, type WarmResult } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { isFinished, type Job, type JobData, type JobPatch } from '../domain/job.ts';
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

  /**
   * Handles one snapshot; resolves whether the job changed. A `running`
   * snapshot always touches the job, even when it brings nothing new (a
   * fetcher's heartbeat, or a retry counting anew): the abandoned-warm
   * watchdog goes by the job's `updatedAt`.
   */
  readonly handle = async (delivery: Delivery<WarmProgress>): Promise<boolean> => {
    const event = delivery.data;
    const at = eventTime(event.at, 'at');
    // Conditional writes: another replica's snapshot, or the watchdog failing
    // the job, may land between our read and our write; then read again.
    for (let attempt = 1; ; attempt += 1) {
      const job = await this.#jobs.get(event.jobId);
      if (job === undefined || job.kind !== 'warm' || isFinished(job)) {
        this.#logger.debug({ jobId: event.jobId, state: event.state }, 'warm progress for an unknown or finished job dropped');
        return false;
      }
      const patch = patchFor(job, event, at);
      if ((await this.#jobs.updateIfUnchanged(job.id, job, patch)) !== undefined) return true;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`warm job ${job.id} kept changing under this snapshot; retrying it later`);
    }
  };
}

/** Conditional writes one snapshot tries before it is redelivered. */
const MAX_ATTEMPTS = 5;

/** What a snapshot changes on a job that has not ended. */
function patchFor(job: Job, event: WarmProgress, at: Date): JobPatch {
  const patch: JobPatch = {};
  if (job.state === 'queued') {
    patch.state = 'running';
    patch.startedAt = at;
  }
  const ending = event.state !== 'running';
  if (ending || event.objectsDone >= job.progress.objectsDone) {
    patch.progress = {
      objectsDone: event.objectsDone,
      objectsTotal: event.objectsTotal ?? null,
      bytesDone: event.bytesDone,
      bytesTotal: event.bytesTotal ?? null,
    };
  }
  const fresh = event.errors.filter((e) => !job.errors.includes(e));
  if (fresh.length > 0) patch.appendErrors = fresh;
  if (ending) {
    patch.state = event.state;
    patch.finishedAt = at;
    if (job.startedAt === null) patch.startedAt = at;
    if (event.result) patch.result = warmResultJson(event.result);
  }
  return patch;
}
