import type { BlobStore } from '@vreg/blob-store';
import type { EventBus, Subscription } from '@vreg/bus';
import { Streams } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { SecretBox } from '@vreg/secrets';
import { UpstreamAddressPolicy } from '@vreg/upstream-client';
import type { FastifyPluginAsync } from 'fastify';
import { BusRefillRequester } from './adapters/bus/bus-refill-requester.ts';
import { BusUpstreamProber } from './adapters/bus/bus-upstream-prober.ts';
import { BusWarmDispatcher } from './adapters/bus/bus-warm-dispatcher.ts';
import type { CatalogConfig } from './config.ts';
import { EntryServedConsumer } from './consumers/entry-served-consumer.ts';
import { ObjectStoredConsumer } from './consumers/object-stored-consumer.ts';
import { OverviewStatsRecorder } from './consumers/overview-stats-recorder.ts';
import { WarmProgressConsumer } from './consumers/warm-progress-consumer.ts';
import { LastUsedRecorder } from './domain/access-token-usage.ts';
import { AccessTokens } from './domain/access-tokens.ts';
import { CatalogAdmin } from './domain/catalog-admin.ts';
import { MirrorHostAdmin } from './domain/mirror-host-admin.ts';
import { OverviewStats } from './domain/overview-stats.ts';
import { UpstreamTests } from './domain/upstream-tests.ts';
import { WarmJobs } from './domain/warm-jobs.ts';
import { GcRunner } from './gc/gc-runner.ts';
import { createAdminApi } from './http/admin-api.ts';
import { consoleStatic, defaultConsoleRoot } from './http/console-static.ts';
import { CleanupScheduler } from './lifecycle/cleanup-scheduler.ts';
import { withEntryHooks } from './lifecycle/entry-hooked-store.ts';
import { EntryInvalidations } from './lifecycle/entry-invalidations.ts';
import { JobWorker } from './lifecycle/job-worker.ts';
import { createLifecycleServices } from './lifecycle/lifecycle-services.ts';
import { QuotaEnforcer } from './lifecycle/quota-enforcer.ts';
import { WarmJobWatchdog } from './lifecycle/warm-job-watchdog.ts';
import type { CatalogStore } from './ports/catalog-store.ts';
import { AccessTokenVerifyResponder } from './responders/access-token-verify-responder.ts';
import { EntryLookupResponder } from './responders/entry-lookup-responder.ts';
import { MirrorResolveResponder } from './responders/mirror-resolve-responder.ts';
import { RegistryResolveResponder } from './responders/registry-resolve-responder.ts';

/** Milliseconds between writes of access tokens' last-used times, when the config does not say. */
const DEFAULT_LAST_USED_FLUSH_MS = 60_000;

/** GC timings when the config does not say: CatalogGcEnv's defaults. */
const DEFAULT_GC: NonNullable<CatalogAppConfig['gc']> = { graceMs: 3_600_000, intervalMs: 900_000, destructionIntervalMs: 60_000 };

/** Lifecycle timings when the config does not say: CatalogLifecycleEnv's defaults. */
const DEFAULT_LIFECYCLE: NonNullable<CatalogAppConfig['lifecycle']> = {
  jobPollIntervalMs: 5_000,
  cleanupSchedulerIntervalMs: 60_000,
  quotaSweepIntervalMs: 300_000,
};

/** Warm watchdog deadlines when the config does not say: CatalogWarmEnv's defaults. */
const DEFAULT_WARM: NonNullable<CatalogAppConfig['warm']> = { abandonMs: 120_000, queuedAbandonMs: 1_800_000 };

/** The settings `buildApp` reads; a full `CatalogConfig` will do. */
export type CatalogAppConfig = Pick<CatalogConfig, 'objectsConcurrency'> &
  Partial<Pick<CatalogConfig, 'lastUsedFlushMs' | 'gc' | 'lifecycle' | 'warm'>> & {
    /** Deadline of one upstream test connection, in ms. Default 10 000. */
    upstreamTestTimeoutMs?: number;
    /** The web console's build (index.html + assets/); default packages/console/dist, or console/ beside the bundle. */
    consoleRoot?: string;
    /** VREG_UPSTREAM_ALLOWED_NETWORKS: internal networks upstream URLs may point at; unset, public addresses only. */
    upstreamAllowedNetworks?: string | undefined;
  };

/** Adapters chosen by the mode: NATS + MongoDB when distributed, memory bus + SQLite when embedded. */
export interface CatalogAppDeps {
  bus: EventBus;
  store: CatalogStore;
  /** Seals upstream passwords written through the admin API; opens access tokens the gateway sends sealed. */
  secretBox: SecretBox;
  logger: Logger;
  /** Bootstrap bearer token of the admin API (access tokens with the `admin` scope work too). */
  adminToken: string;
  /**
   * The blob store the gateway and fetcher write (S3, or the data dir when
   * embedded): GC deletes unreferenced objects from it, and the
   * object.stored consumer checks it when GC raced a fill.
   */
  blobs: BlobStore;
}

export interface CatalogApp {
  /** The admin REST API; register it with `{ prefix: '/api/v1' }`. */
  readonly adminApi: FastifyPluginAsync;
  /** The web console (static files); register it with `{ prefix: '/console' }`. */
  readonly console: FastifyPluginAsync;
  /** Declares the streams it consumes, then starts the responders and consumers. Idempotent. */
  start(): Promise<void>;
  /** Stops consuming and answering, waiting for messages in progress. Leaves the bus and the store open: their owner closes them. */
  stop(): Promise<void>;
}

/**
 * The catalog's composition root: wires the store into the admin API, the
 * `registry.resolve` and `entry.lookup` responders and the `object.stored`
 * and `entry.served` consumers. The same code runs in both modes; the
 * caller picks the adapters and owns the HTTP server.
 */
export function buildApp(config: CatalogAppConfig, deps: CatalogAppDeps): CatalogApp {
  const logger = deps.logger.child({ service: 'catalog' });
  // Writers of cache entries go through this view: each stored object triggers a quota check, and
  // entries leaving the live set (purge, cleanup, quota, upstream removed) are dropped by every gateway.
  const invalidations = new EntryInvalidations({ bus: deps.bus, upstreams: deps.store.upstreams, logger });
  const hookedStore = withEntryHooks(deps.store, {
    stored: (registryId) => quota.notifyStored(registryId),
    removed: (upstreamId) => invalidations.noteUpstream(upstreamId),
  });
  const admin = new CatalogAdmin(hookedStore, deps.secretBox);
  const mirrorHosts = new MirrorHostAdmin(deps.store);
  const usage = new LastUsedRecorder(deps.store.accessTokens, logger, {
    flushIntervalMs: config.lastUsedFlushMs ?? DEFAULT_LAST_USED_FLUSH_MS,
  });
  const accessTokens = new AccessTokens({ tokens: deps.store.accessTokens, registries: deps.store.registries, usage });
  const upstreamTests = new UpstreamTests({
    upstreams: deps.store.upstreams,
    sealer: deps.secretBox,
    prober: new BusUpstreamProber(deps.bus),
    ...(config.upstreamTestTimeoutMs === undefined ? {} : { timeoutMs: config.upstreamTestTimeoutMs }),
  });
  const stats = new OverviewStats();
  const statsRecorder = new OverviewStatsRecorder({ stats, store: deps.store, logger });
  const gcSettings = config.gc ?? DEFAULT_GC;
  const gc = new GcRunner({
    store: deps.store,
    blobs: deps.blobs,
    logger,
    graceMs: gcSettings.graceMs,
    gcIntervalMs: gcSettings.intervalMs,
    destructionIntervalMs: gcSettings.destructionIntervalMs,
    onQueued: () => jobWorker.wake(),
  });
  // Lifecycle (issue 8): purge and cleanup jobs, the cleanup scheduler, quotas.
  const lifecycleSettings = config.lifecycle ?? DEFAULT_LIFECYCLE;
  const lifecycle = createLifecycleServices(
    hookedStore,
    () => jobWorker.wake(),
    (registryId) => quota.notifyStored(registryId),
  );
  const jobWorker = new JobWorker({
    jobs: deps.store.jobs,
    handlers: { purge: lifecycle.purge.handler, cleanup: lifecycle.cleanup.handler, gc: gc.jobHandler },
    logger,
    pollIntervalMs: lifecycleSettings.jobPollIntervalMs,
  });
  const cleanupScheduler = new CleanupScheduler({
    policies: deps.store.cleanupPolicies,
    cleanup: lifecycle.cleanup,
    logger,
    intervalMs: lifecycleSettings.cleanupSchedulerIntervalMs,
  });
  const quota = new QuotaEnforcer({ store: hookedStore, logger, sweepIntervalMs: lifecycleSettings.quotaSweepIntervalMs });
  const warmWatchdog = new WarmJobWatchdog({ jobs: deps.store.jobs, logger, settings: config.warm ?? DEFAULT_WARM });
  const parts: ReadonlyArray<{ name: string; start(bus: EventBus): Promise<Subscription> }> = [
    { name: 'registry-resolve', start: (bus) => new RegistryResolveResponder({ store: deps.store }).start(bus) },
    { name: 'entry-lookup', start: (bus) => new EntryLookupResponder({ store: deps.store }).start(bus) },
    { name: 'mirror-resolve', start: (bus) => new MirrorResolveResponder({ mirrors: mirrorHosts }).start(bus) },
    {
      name: 'access-token-verify',
      start: (bus) => new AccessTokenVerifyResponder({ tokens: accessTokens, opener: deps.secretBox }).start(bus),
    },
    {
      name: 'object-stored',
      start: (bus) =>
        statsRecorder.startObjectStored(
          bus,
          new ObjectStoredConsumer({
            store: hookedStore,
            blobs: deps.blobs,
            refills: new BusRefillRequester(deps.bus),
            logger,
            concurrency: config.objectsConcurrency,
          }),
        ),
    },
    { name: 'warm-progress', start: (bus) => new WarmProgressConsumer({ jobs: deps.store.jobs, logger }).start(bus) },
    { name: 'entry-served', start: (bus) => statsRecorder.startEntryServed(bus, new EntryServedConsumer({ store: deps.store, logger })) },
    { name: 'upstream-failed', start: (bus) => statsRecorder.listenUpstreamFailed(bus) },
  ];
  let running: Subscription[] | undefined;

  async function stopAll(subscriptions: readonly Subscription[]): Promise<void> {
    const results = await Promise.allSettled(subscriptions.map((s) => s.stop()));
    for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason }, 'catalog subscription did not stop cleanly');
  }

  return {
    adminApi: createAdminApi({
      admin,
      adminToken: deps.adminToken,
      accessTokens,
      upstreamTests,
      jobs: deps.store.jobs,
      lifecycle,
      gc,
      warmJobs: new WarmJobs({ jobs: deps.store.jobs, registries: deps.store.registries, dispatcher: new BusWarmDispatcher(deps.bus) }),
      upstreamAddressPolicy: UpstreamAddressPolicy.fromList(config.upstreamAllowedNetworks),
      stats,
      mirrorHosts,
    }),
    console: consoleStatic({ root: config.consoleRoot ?? defaultConsoleRoot() }),

    async start() {
      if (running !== undefined) return;
      // VREG_FETCH too: the object.stored consumer asks for refills when GC raced a fill.
      await deps.bus.ensureStreams([Streams.objects, Streams.served, Streams.fetch, Streams.warm, Streams.warmProgress]);
      const started: Subscription[] = [];
      try {
        for (const part of parts) started.push(await part.start(deps.bus));
      } catch (err) {
        // Half-started is worse than not started: undo, then report.
        await stopAll(started);
        throw err;
      }
      running = started;
      usage.start();
      gc.start();
      jobWorker.start();
      cleanupScheduler.start();
      quota.start();
      warmWatchdog.start();
      logger.info({ parts: parts.map((p) => p.name) }, 'catalog responders and consumers started');
    },

    async stop() {
      if (running === undefined) return;
      const subscriptions = running;
      running = undefined;
      await stopAll(subscriptions);
      await usage.stop();
      await gc.stop();
      await Promise.all([jobWorker.stop(), cleanupScheduler.stop(), quota.stop(), warmWatchdog.stop()]);
      await invalidations.flush();
      logger.info('catalog responders and consumers stopped');
    },
  };
}
