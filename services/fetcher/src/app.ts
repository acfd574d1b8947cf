import { randomUUID } from 'node:crypto';
import type { BlobStore } from '@vreg/blob-store';
import type { EventBus, Subscription } from '@vreg/bus';
import { Consumers, FetchRequestedSchema, Streams, Subjects, WarmRequestedSchema } from '@vreg/contracts';
import { type FillSlots, LocalFillSlots } from '@vreg/fill';
import type { FillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { MemoryVerdictStore, SignatureJudge } from '@vreg/policy';
import type { SecretBox } from '@vreg/secrets';
import { InstrumentedUpstreamRegistry, MeteredFillLease, VregMetrics } from '@vreg/telemetry';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import { BusCatalogLookup } from './adapters/bus/bus-catalog-lookup.ts';
import type { FetcherFillConfig } from './config.ts';
import { fetchRequestedHandler } from './consumers/fetch-requested-consumer.ts';
import { warmRequestedHandler } from './consumers/warm-requested-consumer.ts';
import { UpstreamTestResponder } from './responders/upstream-test-responder.ts';
import { WarmPolicy } from './warm/warm-policy.ts';

export interface FetcherDeps {
  bus: EventBus;
  store: BlobStore;
  leases: FillLease;
  upstreams: UpstreamRegistry;
  secrets: SecretBox;
  logger: Logger;
  /** Where upstream calls and fills are measured (the process's telemetry). Default: nowhere. */
  metrics?: VregMetrics;
  /** Bounds the blob fills running at once per upstream. Default: this fetcher's own, VREG_UPSTREAM_MAX_CONCURRENT_FILLS; embedded mode shares the gateway's. */
  fillSlots?: FillSlots;
}

export interface FetcherApp {
  /** Starts consuming `fetch.requested` and `warm.requested` and answering `upstream.test`. */
  start(): Promise<void>;
  /** Stops taking requests and waits for the fills in progress. */
  stop(): Promise<void>;
}

/** The fetcher's composition root: the same in embedded and distributed mode. */
export function buildApp(config: FetcherFillConfig, deps: FetcherDeps): FetcherApp {
  const logger = deps.logger.child({ component: 'fetcher' });
  const metrics = deps.metrics ?? VregMetrics.noop();
  const fill = {
    store: deps.store,
    upstreams: new InstrumentedUpstreamRegistry(deps.upstreams, metrics),
    bus: deps.bus,
    secrets: deps.secrets,
    logger,
    manifestMaxBytes: config.VREG_MANIFEST_MAX_BYTES,
    maxBlobBytes: config.VREG_UPSTREAM_MAX_BLOB_BYTES,
  };
  const catalog = new BusCatalogLookup(deps.bus, config.VREG_CATALOG_TIMEOUT_MS);
  const leases = new MeteredFillLease(deps.leases, metrics);
  const holderId = `fetcher-${randomUUID()}`;
  const handler = fetchRequestedHandler({
    fill,
    catalog,
    leases,
    holderId,
    leaseTtlMs: config.VREG_FILL_LEASE_TTL_MS,
    fillTimeoutMs: config.VREG_FILL_TIMEOUT_MS,
    // Completing abandoned fills counts against the same bound: a full upstream makes the request wait (nak with backoff).
    slots: deps.fillSlots ?? new LocalFillSlots(config.VREG_UPSTREAM_MAX_CONCURRENT_FILLS),
  });
  // Long: a warm renews with working(); the ack wait only matters if the fetcher dies.
  // Then the command comes back after it, and the catalog's VREG_WARM_ABANDON_MS
  // (default 120 s) must leave room for heartbeat + this wait before failing the job.
  const warmAckWaitMs = Math.max(30_000, config.VREG_FILL_LEASE_TTL_MS);
  const warmHandler = warmRequestedHandler({
    fill,
    catalog,
    leases,
    holderId,
    bus: deps.bus,
    leaseTtlMs: config.VREG_FILL_LEASE_TTL_MS,
    waitPollMs: 200,
    blobConcurrency: config.VREG_WARM_BLOB_CONCURRENCY,
    recordWaitMs: 30_000,
    maxDeliver: config.VREG_WARM_MAX_DELIVER,
    warmTimeoutMs: config.VREG_WARM_TIMEOUT_MS,
    workingEveryMs: Math.floor(warmAckWaitMs / 3),
    heartbeatMs: config.VREG_WARM_HEARTBEAT_MS,
    // Warms are few: this process's memory holds their verdicts; a refusal is judged again at the next warm.
    policy: new WarmPolicy({
      bus: deps.bus,
      judge: new SignatureJudge({ store: new MemoryVerdictStore(10_000), negativeTtlMs: 1_000 }),
      metrics,
      logger,
    }),
  });
  // The upstream itself, not the instrumented one: a test connection is not traffic.
  const upstreamTests = new UpstreamTestResponder({ upstreams: deps.upstreams, opener: deps.secrets, logger });
  let subscription: Subscription | undefined;
  let testing: Subscription | undefined;
  let warming: Subscription | undefined;
  return {
    async start() {
      subscription = await deps.bus.consume(
        {
          stream: Streams.fetch.name,
          consumer: Consumers.fetcher,
          subject: Subjects.fetchRequested,
          schema: FetchRequestedSchema,
          maxDeliver: config.VREG_FETCHER_MAX_DELIVER,
          concurrency: config.VREG_FETCHER_CONCURRENCY,
          // A fill renews with working(); the wait only matters if the fetcher dies.
          ackWaitMs: Math.max(30_000, config.VREG_FILL_LEASE_TTL_MS),
        },
        handler,
      );
      warming = await deps.bus.consume(
        {
          stream: Streams.warm.name,
          consumer: Consumers.fetcherWarm,
          subject: Subjects.warmRequested,
          schema: WarmRequestedSchema,
          maxDeliver: config.VREG_WARM_MAX_DELIVER,
          concurrency: config.VREG_WARM_CONCURRENCY,
          ackWaitMs: warmAckWaitMs,
        },
        warmHandler,
      );
      testing = await upstreamTests.start(deps.bus);
    },
    async stop() {
      await warming?.stop();
      await testing?.stop();
      await subscription?.stop();
    },
  };
}
