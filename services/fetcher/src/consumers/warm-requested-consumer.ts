import type { Delivery, EventBus } from '@vreg/bus';
import type { WarmRequested } from '@vreg/contracts';
import { describeError, type ImageWarmerDeps, isPermanentWarmError, WarmIncompleteError, warmImage } from '../warm/image-warmer.ts';
import { WarmProgressReporter } from '../warm/warm-progress.ts';

export interface WarmRequestedHandlerDeps extends ImageWarmerDeps {
  bus: EventBus;
  /** Deliveries of one command before its job is failed (the consumer's `maxDeliver`). */
  maxDeliver: number;
  /** Deadline of one warm attempt, ms. */
  warmTimeoutMs: number;
  /** How often the consumer tells the bus it is still working, ms (below its ack wait). */
  workingEveryMs: number;
  /** Least time between two progress snapshots, ms. */
  progressIntervalMs?: number;
  /** Most time between two progress snapshots while a warm runs, ms (VREG_WARM_HEARTBEAT_MS): the catalog's proof of life. */
  heartbeatMs?: number;
}

/**
 * Runs a `warm` job: consumes `warm.requested`, warms the image and reports
 * `warm.progress` snapshots ending in `succeeded` or `failed`. An unknown
 * registry, image, tag or platform fails the job at once, with the reason;
 * a failure that may pass (upstream down) is reported and retried with
 * backoff, and fails the job on the last delivery. Redelivery is cheap:
 * objects already stored are only recorded. While it runs, a snapshot goes
 * out at least every `heartbeatMs`; if this process dies, the command is
 * redelivered after the ack wait and the next attempt reports at once, so
 * the catalog's VREG_WARM_ABANDON_MS must exceed heartbeat + ack wait.
 */
export function warmRequestedHandler(deps: WarmRequestedHandlerDeps): (delivery: Delivery<WarmRequested>) => Promise<void> {
  const log = deps.fill.logger;
  return async (delivery) => {
    const { jobId, registryId, image, tag, platforms } = delivery.data;
    const progress = new WarmProgressReporter(deps.bus, { jobId, registryId }, log, deps.progressIntervalMs, deps.heartbeatMs);
    const keepAlive = setInterval(() => delivery.working(), deps.workingEveryMs);
    keepAlive.unref();
    try {
      await progress.flush();
      progress.startHeartbeat();
      const registry = await deps.catalog.resolveRegistry(registryId);
      const result = await warmImage(deps, registry, { image, tag, platforms, jobId }, progress, AbortSignal.timeout(deps.warmTimeoutMs));
      await progress.finish('succeeded', result);
      log.info({ jobId, registryId, image, tag, objects: progress.objectsDone, downloaded: progress.objectsDownloaded }, 'image warmed');
    } catch (err) {
      // The blob failures are already listed one by one; the summary goes last.
      progress.error(err instanceof WarmIncompleteError ? err.message : `${image}:${tag}: ${describeError(err)}`);
      const last = delivery.deliveryCount >= deps.maxDeliver;
      if (isPermanentWarmError(err) || last) {
        await progress.finish('failed');
        log.info({ jobId, registryId, image, tag, err: describeError(err), deliveryCount: delivery.deliveryCount }, 'warm failed');
        return;
      }
      await progress.flush();
      log.warn(
        { jobId, registryId, image, tag, err: describeError(err), deliveryCount: delivery.deliveryCount },
        'warm attempt failed; retrying',
      );
      throw err;
    } finally {
      progress.stopHeartbeat();
      clearInterval(keepAlive);
    }
  };
}
