import { EventEmitter } from 'node:events';
import type { BlobStore } from '@vreg/blob-store';
import type { EventBus } from '@vreg/bus';
import type { Logger } from '@vreg/logging';
import type { CatalogAppConfig } from '../config.ts';
import { GcRunner } from '../gc/gc-runner.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { CleanupScheduler } from './cleanup-scheduler.ts';
import { withEntryHooks } from './entry-hooked-store.ts';
import { EntryInvalidations } from './entry-invalidations.ts';
import { JobWorker } from './job-worker.ts';
import { createLifecycleServices, type LifecycleServices } from './lifecycle-services.ts';
import { PolicyDenialPruner } from './policy-denial-pruner.ts';
import { QuotaEnforcer } from './quota-enforcer.ts';
import { WarmJobWatchdog } from './warm-job-watchdog.ts';

export interface LifecycleDeps {
  bus: EventBus;
  store: CatalogStore;
  /** The blob store GC deletes unreferenced objects from. */
  blobs: BlobStore;
  logger: Logger;
}

/** What the rest of the catalog uses of the lifecycle. */
export interface Lifecycle {
  /**
   * The store every writer of cache entries goes through: a stored object
   * triggers a quota check, and entries leaving the live set (purge, cleanup,
   * quota, upstream removed) are dropped by every gateway.
   */
  readonly store: CatalogStore;
  /** Purge, cleanup policies, usage and quota changes, for the admin API. */
  readonly services: LifecycleServices;
  /** Garbage collection of objects (`POST /gc`, and its timers). */
  readonly gc: GcRunner;
  /** Tells every gateway a registry changed (its pull policy), so it drops the registry it cached. */
  registryChanged(registryId: string): void;
  /** Starts the timers: GC, the job worker, the cleanup scheduler, the quota sweep, the warm watchdog, the refusal records' pruning. */
  start(): void;
  /** Stops them, waiting for work in progress, then publishes the invalidations still pending. */
  stop(): Promise<void>;
}

/**
 * The catalog's lifecycle and GC, one sub-root of its composition: purge and
 * cleanup jobs, the cleanup scheduler, quotas, the warm watchdog and GC, and
 * the job worker that runs their jobs.
 *
 * Wired in order. Two links point back, and go through a hook rather than a
 * reference to something built later: queuing a job wakes the worker
 * (`jobQueued`), and a stored object asks the quota enforcer for a check
 * (the hooked store, built after the enforcer, which itself writes through a
 * store that only invalidates: its own removals need no quota check).
 */
export function buildLifecycle(config: CatalogAppConfig, deps: LifecycleDeps): Lifecycle {
  const { bus, blobs, logger } = deps;
  const invalidations = new EntryInvalidations({ bus, upstreams: deps.store.upstreams, logger });
  const removed = (upstreamId: string) => invalidations.noteUpstream(upstreamId);
  const quota = new QuotaEnforcer({
    store: withEntryHooks(deps.store, { removed }),
    logger,
    sweepIntervalMs: config.VREG_QUOTA_SWEEP_INTERVAL_MS,
  });
  const store = withEntryHooks(deps.store, { stored: (registryId) => quota.notifyStored(registryId), removed });

  // A job queued by this process starts at once instead of at the worker's next poll.
  const jobQueued = new EventEmitter<{ queued: [] }>();
  const onQueued = () => void jobQueued.emit('queued');
  const gc = new GcRunner({
    store: deps.store,
    blobs,
    logger,
    graceMs: config.VREG_GC_GRACE_MS,
    gcIntervalMs: config.VREG_GC_INTERVAL_MS,
    destructionIntervalMs: config.VREG_DESTRUCTION_INTERVAL_MS,
    onQueued,
  });
  const services = createLifecycleServices(store, onQueued, (registryId) => quota.notifyStored(registryId));
  const jobWorker = new JobWorker({
    jobs: deps.store.jobs,
    handlers: { purge: services.purge.handler, cleanup: services.cleanup.handler, gc: gc.jobHandler },
    logger,
    pollIntervalMs: config.VREG_JOB_POLL_INTERVAL_MS,
  });
  jobQueued.on('queued', () => jobWorker.wake());
  const cleanupScheduler = new CleanupScheduler({
    policies: deps.store.cleanupPolicies,
    cleanup: services.cleanup,
    logger,
    intervalMs: config.VREG_CLEANUP_SCHEDULER_INTERVAL_MS,
  });
  const denialPruner = new PolicyDenialPruner({
    denials: deps.store.policyDenials,
    logger,
    retention: { maxAgeMs: config.VREG_POLICY_DENIALS_MAX_AGE_DAYS * 86_400_000, maxRecords: config.VREG_POLICY_DENIALS_MAX_RECORDS },
  });
  const warmWatchdog = new WarmJobWatchdog({
    jobs: deps.store.jobs,
    logger,
    settings: { abandonMs: config.VREG_WARM_ABANDON_MS, queuedAbandonMs: config.VREG_WARM_QUEUED_ABANDON_MS },
  });

  return {
    store,
    services,
    gc,
    registryChanged: (registryId) => invalidations.noteRegistry(registryId),
    start() {
      gc.start();
      jobWorker.start();
      cleanupScheduler.start();
      quota.start();
      warmWatchdog.start();
      denialPruner.start();
    },
    async stop() {
      await gc.stop();
      await Promise.all([jobWorker.stop(), cleanupScheduler.stop(), quota.stop(), warmWatchdog.stop(), denialPruner.stop()]);
      await invalidations.flush();
    },
  };
}
