import type { BlobStore } from '@vreg/blob-store';
import type { EventBus } from '@vreg/bus';
import type { Logger } from '@vreg/logging';
import { FailureLimiter, type SecretBox, tokenWeaknesses } from '@vreg/secrets';
import { UpstreamAddressPolicy } from '@vreg/upstream-client';
import type { FastifyPluginAsync } from 'fastify';
import { BusUpstreamProber } from './adapters/bus/bus-upstream-prober.ts';
import { BusWarmDispatcher } from './adapters/bus/bus-warm-dispatcher.ts';
import { buildBusHandlers } from './bus-handlers.ts';
import type { CatalogAppConfig } from './config.ts';
import { OverviewStatsRecorder } from './consumers/overview-stats-recorder.ts';
import { LastUsedRecorder } from './domain/access-token-usage.ts';
import { AccessTokens } from './domain/access-tokens.ts';
import { CatalogAdmin } from './domain/catalog-admin.ts';
import { MirrorHostAdmin } from './domain/mirror-host-admin.ts';
import { OverviewStats } from './domain/overview-stats.ts';
import { PullPolicies } from './domain/pull-policies.ts';
import { UpstreamTests } from './domain/upstream-tests.ts';
import { WarmJobs } from './domain/warm-jobs.ts';
import { createAdminApi } from './http/admin-api.ts';
import { consoleStatic, defaultConsoleRoot } from './http/console-static.ts';
import { buildLifecycle } from './lifecycle/build-lifecycle.ts';
import type { CatalogStore } from './ports/catalog-store.ts';

/** Client addresses whose failed admin authentications are remembered at most (least recently failed forgotten first). */
const AUTH_FAILURE_ADDRESSES_MAX = 100_000;

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
  /** Declares the streams it consumes, then starts the responders, consumers and lifecycle timers. Idempotent. */
  start(): Promise<void>;
  /** Stops consuming and answering, waiting for messages in progress. Leaves the bus and the store open: their owner closes them. */
  stop(): Promise<void>;
}

/**
 * The catalog's composition root, the same in both modes (the caller picks
 * the adapters and owns the HTTP server): the lifecycle and GC sub-root, the
 * use cases of the admin API, the bus's responders and consumers, the admin
 * API and the console. Wired in order: nothing is used before it is built.
 */
export function buildApp(config: CatalogAppConfig, deps: CatalogAppDeps): CatalogApp {
  const { bus, store, secretBox } = deps;
  const logger = deps.logger.child({ service: 'catalog' });
  // An operator's own admin token is the key to everything: say so when it looks guessable (never what it is).
  const weaknesses = tokenWeaknesses(deps.adminToken);
  if (weaknesses.length > 0)
    logger.warn({ reasons: weaknesses }, 'VREG_ADMIN_TOKEN looks weak: set 32 or more random characters (openssl rand -hex 32)');
  const lifecycle = buildLifecycle(config, { bus, store, blobs: deps.blobs, logger });

  const admin = new CatalogAdmin(lifecycle.store, secretBox);
  const mirrorHosts = new MirrorHostAdmin(store);
  const usage = new LastUsedRecorder(store.accessTokens, logger, { flushIntervalMs: config.VREG_LAST_USED_FLUSH_MS });
  const accessTokens = new AccessTokens({ tokens: store.accessTokens, registries: store.registries, usage });
  const stats = new OverviewStats();
  const statsRecorder = new OverviewStatsRecorder({ stats, store, logger });
  // A changed policy reaches every gateway at once: they drop the registry they cached with its policy.
  const pullPolicies = new PullPolicies({ store, changed: (registryId) => lifecycle.registryChanged(registryId) });
  const handlers = buildBusHandlers({
    bus,
    store,
    hookedStore: lifecycle.store,
    blobs: deps.blobs,
    secretBox,
    accessTokens,
    mirrorHosts,
    statsRecorder,
    policies: pullPolicies,
    logger,
    objectsConcurrency: config.VREG_CATALOG_OBJECTS_CONCURRENCY,
  });

  const adminApi = createAdminApi({
    admin,
    adminToken: deps.adminToken,
    accessTokens,
    upstreamTests: new UpstreamTests({ upstreams: store.upstreams, sealer: secretBox, prober: new BusUpstreamProber(bus) }),
    jobs: store.jobs,
    lifecycle: lifecycle.services,
    gc: lifecycle.gc,
    warmJobs: new WarmJobs({ jobs: store.jobs, registries: store.registries, dispatcher: new BusWarmDispatcher(bus) }),
    upstreamAddressPolicy: UpstreamAddressPolicy.fromList(config.VREG_UPSTREAM_ALLOWED_NETWORKS),
    stats,
    authFailures: new FailureLimiter({
      burst: config.VREG_ADMIN_AUTH_FAILURES_PER_ADDRESS,
      windowSeconds: config.VREG_ADMIN_AUTH_FAILURE_WINDOW_SECONDS,
      maxKeys: AUTH_FAILURE_ADDRESSES_MAX,
    }),
    mirrorHosts,
    pullPolicies,
  });

  let running = false;
  return {
    adminApi,
    console: consoleStatic({ root: defaultConsoleRoot() }),
    async start() {
      if (running) return;
      await handlers.start();
      running = true;
      usage.start();
      lifecycle.start();
      logger.info({ parts: handlers.names }, 'catalog responders and consumers started');
    },
    async stop() {
      if (!running) return;
      running = false;
      await handlers.stop();
      await usage.stop();
      await lifecycle.stop();
      logger.info('catalog responders and consumers stopped');
    },
  };
}
