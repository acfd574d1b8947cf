import { randomUUID } from 'node:crypto';
import type { BlobStore } from '@vreg/blob-store';
import type { EventBus, Subscription } from '@vreg/bus';
import { EntriesInvalidatedSchema, Subjects } from '@vreg/contracts';
import { type FillDeps, type FillSlots, LocalFillSlots } from '@vreg/fill';
import type { FillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { MemoryVerdictStore, SignatureJudge, type VerdictStore } from '@vreg/policy';
import type { SecretBox } from '@vreg/secrets';
import { InstrumentedUpstreamRegistry, MeteredFillLease, VregMetrics } from '@vreg/telemetry';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import type { FastifyPluginAsync } from 'fastify';
import { BusCatalogClient } from './adapters/bus/bus-catalog-client.ts';
import { BusMirrorDirectory } from './adapters/bus/bus-mirror-directory.ts';
import { buildAccessControl } from './auth/access-control.ts';
import type { TokenKeyRing } from './auth/token-key-ring.ts';
import type { GatewayPullConfig } from './config.ts';
import { RequestRateLimiter } from './domain/request-rate-limiter.ts';
import { pullRateLimit } from './http/pull-rate-limit.ts';
import { v2Routes } from './http/v2-routes.ts';
import { DenialRecorder } from './policy/denial-recorder.ts';
import { GatewaySignatureSource } from './policy/gateway-signature-source.ts';
import { PullPolicyGate } from './policy/pull-policy-gate.ts';
import { blobMemoryCache } from './pull/blob-memory-cache.ts';
import { BlobService } from './pull/blob-service.ts';
import { FetchRequester } from './pull/fetch-requester.ts';
import { ListingService } from './pull/listing-service.ts';
import { ManifestService } from './pull/manifest-service.ts';
import { ServedBatcher } from './pull/served-batcher.ts';

export interface GatewayDeps {
  bus: EventBus;
  store: BlobStore;
  leases: FillLease;
  upstreams: UpstreamRegistry;
  secrets: SecretBox;
  logger: Logger;
  /** Signs and verifies registry tokens; the same keys on every gateway. */
  signingKeys: TokenKeyRing;
  /** Where upstream calls and fills are measured (the process's telemetry). Default: nowhere. */
  metrics?: VregMetrics;
  /** Signature verdicts shared by every gateway (NATS KV when distributed). Default: this process's memory. */
  verdicts?: VerdictStore;
  /**
   * Bounds the blob fills running at once per upstream. Default: this
   * gateway's own, VREG_UPSTREAM_MAX_CONCURRENT_FILLS each; embedded mode
   * shares one with its fetcher, so the process as a whole keeps the limit.
   */
  fillSlots?: FillSlots;
}

export interface GatewayApp {
  /** The pull API and its token endpoint (`/v2/token`); register with `{ prefix: '/v2' }`. */
  routes: FastifyPluginAsync;
  /** Publishes pending download counts. */
  stop(): Promise<void>;
}

/** The gateway's composition root: the same in embedded and distributed mode, only `deps` differ. */
export function buildApp(config: GatewayPullConfig, deps: GatewayDeps): GatewayApp {
  const logger = deps.logger.child({ component: 'gateway' });
  // Measured at the ports: every upstream call and every fill lease, whoever makes them.
  const metrics = deps.metrics ?? VregMetrics.noop();
  metrics.initPullSeries();
  const upstreams = new InstrumentedUpstreamRegistry(deps.upstreams, metrics);
  const leases = new MeteredFillLease(deps.leases, metrics);
  const fill: FillDeps = {
    store: deps.store,
    upstreams,
    bus: deps.bus,
    secrets: deps.secrets,
    logger,
    manifestMaxBytes: config.VREG_MANIFEST_MAX_BYTES,
    maxBlobBytes: config.VREG_UPSTREAM_MAX_BLOB_BYTES,
  };
  const catalog = new BusCatalogClient(deps.bus, logger, {
    registryTtlMs: config.VREG_REGISTRY_CACHE_MS,
    tagTtlMs: config.VREG_TAG_CACHE_MS,
    timeoutMs: config.VREG_CATALOG_TIMEOUT_MS,
    maxEntries: config.VREG_CATALOG_CACHE_ENTRIES,
  });
  const mirrors = new BusMirrorDirectory(deps.bus, logger, {
    ttlMs: config.VREG_REGISTRY_CACHE_MS,
    timeoutMs: config.VREG_CATALOG_TIMEOUT_MS,
  });
  const served = new ServedBatcher(deps.bus, logger, { flushIntervalMs: config.VREG_SERVED_FLUSH_MS, maxKeys: 10_000 });
  const fetches = new FetchRequester(deps.bus, logger);
  const holderId = `gateway-${randomUUID()}`;
  const manifests = new ManifestService({
    fill,
    catalog,
    store: deps.store,
    upstreams,
    fetches,
    served,
    logger,
    fillTimeoutMs: config.VREG_FILL_TIMEOUT_MS,
    leases,
    holderId,
    leaseTtlMs: config.VREG_FILL_LEASE_TTL_MS,
    negativeCacheMs: config.VREG_NEGATIVE_CACHE_MS,
    manifestCacheBytes: config.VREG_MANIFEST_CACHE_BYTES,
  });
  const blobs = new BlobService({
    fill,
    catalog,
    store: blobMemoryCache(config, deps.store, logger, metrics),
    leases,
    fetches,
    served,
    logger,
    holderId,
    leaseTtlMs: config.VREG_FILL_LEASE_TTL_MS,
    fillTimeoutMs: config.VREG_FILL_TIMEOUT_MS,
    spoolDir: config.VREG_SPOOL_DIR,
    waitPollMs: config.VREG_FILL_WAIT_POLL_MS,
    redirectTtlSeconds: config.VREG_BLOB_REDIRECT_TTL_SECONDS,
    fillSlots: deps.fillSlots ?? new LocalFillSlots(config.VREG_UPSTREAM_MAX_CONCURRENT_FILLS),
  });
  const access = buildAccessControl(config, { bus: deps.bus, catalog, mirrors, signingKeys: deps.signingKeys, sealer: deps.secrets });
  const listings = new ListingService({ fill, manifests });
  const policy = buildPolicyGate(config, { ...deps, metrics, logger, fill, catalog, manifests, listings, blobs });
  const limiter = new RequestRateLimiter({ limit: config.VREG_PULL_RATE_LIMIT, windowMs: config.VREG_PULL_RATE_WINDOW_MS });
  let invalidations: Subscription | undefined;
  const routes: FastifyPluginAsync = async (app) => {
    // Purges, cleanups and quota evictions take effect here at once, not when cached lookups expire.
    invalidations ??= await deps.bus.listen(Subjects.entriesInvalidated, EntriesInvalidatedSchema, (m) => {
      for (const registryId of m.registryIds) catalog.forgetRegistry(registryId);
    });
    if (limiter.enabled)
      app.addHook('onRequest', pullRateLimit(limiter, `${config.VREG_PULL_RATE_LIMIT} per ${config.VREG_PULL_RATE_WINDOW_MS / 1000}s`));
    await app.register(access.tokenRoutes);
    await app.register(v2Routes, { catalog, manifests, blobs, listings, guard: access.guard, mirrors, policy: policy.gate });
  };
  return {
    routes,
    stop: async () => {
      await invalidations?.stop();
      // Manifests answered before the stores behind them finished: stored and announced before the bus closes.
      await manifests.drain();
      await served.stop();
      await policy.recorder.stop();
    },
  };
}

/** The pull policy's part of the gateway: the gate every pull goes through, its judge and its records. */
function buildPolicyGate(
  config: GatewayPullConfig,
  deps: Pick<GatewayDeps, 'bus' | 'store' | 'verdicts'> & {
    metrics: VregMetrics;
    logger: Logger;
    fill: FillDeps;
    catalog: BusCatalogClient;
    manifests: ManifestService;
    listings: ListingService;
    blobs: BlobService;
  },
): { gate: PullPolicyGate; recorder: DenialRecorder } {
  const log = deps.logger.child({ component: 'pull-policy' });
  const recorder = new DenialRecorder(deps.bus, log, deps.metrics, {
    flushIntervalMs: config.VREG_POLICY_DENIAL_FLUSH_MS,
    maxKeys: 10_000,
  });
  const judge = new SignatureJudge({
    store: deps.verdicts ?? new MemoryVerdictStore(config.VREG_POLICY_VERDICT_CACHE_ENTRIES),
    negativeTtlMs: config.VREG_POLICY_REFUSAL_CACHE_MS,
    onStoreError: (err) => log.warn({ err: (err as Error).message }, 'signature verdict store failed; verifying without it'),
  });
  const sourceDeps = { ...deps, timeoutMs: config.VREG_POLICY_SIGNATURE_TIMEOUT_MS };
  const gate = new PullPolicyGate({
    judge,
    recorder,
    sourceFor: (registry) => new GatewaySignatureSource(sourceDeps, registry),
    manifests: deps.manifests,
    logger: log,
  });
  return { gate, recorder };
}
