import { openS3BlobStoreFromEnv } from '@vreg/blob-store';
import { NatsEventBus } from '@vreg/bus';
import { decodeKey, Streams, splitList, splitListen, streamLimitsOf } from '@vreg/contracts';
import { NatsKvFillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { secretBoxFromEnv } from '@vreg/secrets';
import {
  catalogCheck,
  natsCheck,
  opsRoutes,
  Readiness,
  requestTelemetry,
  type ShutdownStep,
  startOpsServer,
  storeCheck,
  type Telemetry,
  UpstreamFailureBroadcaster,
} from '@vreg/telemetry';
import { httpUpstreamRegistryFromEnv } from '@vreg/upstream-client';
import { NatsKvVerdictStore } from './adapters/nats/nats-kv-verdict-store.ts';
import { buildApp } from './app.ts';
import { TokenKeyRing } from './auth/token-key-ring.ts';
import type { GatewayConfig } from './config.ts';
import { createServer } from './http/create-server.ts';

export interface GatewayProcess {
  readiness: Readiness;
  /** What stopping takes, in order: no new requests, those in flight finished, what is owed published, disconnected. */
  steps: ShutdownStep[];
}

/**
 * One gateway of distributed mode, serving on VREG_LISTEN: its own NATS
 * connection, fill leases and S3 client. A worker of a gateway cluster is
 * one of these too (cluster shares the address); `renderMetrics` then
 * answers for every process of the cluster.
 */
export async function startGatewayProcess(
  config: GatewayConfig,
  telemetry: Telemetry,
  logger: Logger,
  options: { renderMetrics?: () => Promise<string> } = {},
): Promise<GatewayProcess> {
  const bus = await NatsEventBus.connect({
    servers: splitList(config.VREG_NATS_URL),
    namespace: config.VREG_NAMESPACE,
    replicas: config.VREG_NATS_REPLICAS,
    streamLimits: streamLimitsOf(config),
    logger,
    metrics: telemetry.metrics,
  });
  await bus.ensureStreams(Object.values(Streams));
  const leases = await NatsKvFillLease.create(bus.connection, {
    namespace: config.VREG_NAMESPACE,
    replicas: config.VREG_NATS_REPLICAS,
    ttlMs: config.VREG_FILL_LEASE_TTL_MS,
  });
  // Signature verdicts are shared: an index verified by one replica vouches for its platform manifests on all.
  const verdicts = await NatsKvVerdictStore.create(bus.connection, {
    namespace: config.VREG_NAMESPACE,
    replicas: config.VREG_NATS_REPLICAS,
  });
  const store = await openS3BlobStoreFromEnv(config);
  const upstreams = httpUpstreamRegistryFromEnv(config);
  // Without configured signing keys, one is derived from the secrets key every replica shares.
  const signingKeys = config.VREG_TOKEN_SIGNING_KEYS
    ? await TokenKeyRing.parse(config.VREG_TOKEN_SIGNING_KEYS)
    : await TokenKeyRing.deriveFrom(decodeKey(config.VREG_SECRET_KEY));
  const app = buildApp(config, {
    bus,
    store,
    leases,
    upstreams,
    secrets: secretBoxFromEnv(config),
    logger,
    signingKeys,
    metrics: telemetry.metrics,
    verdicts,
  });
  // The console's overview lists upstream errors: the catalog hears of this process's over the bus (throttled).
  const failures = new UpstreamFailureBroadcaster({ bus, logger });
  failures.start(telemetry.metrics);
  // Hits are served from the store even while NATS or the catalog is down: only the store decides readiness.
  const readiness = new Readiness([storeCheck(store), natsCheck(bus.connection, false), catalogCheck(bus, false)]);
  const server = createServer(logger, {
    maxHeaderBytes: config.VREG_MAX_HEADER_BYTES,
    maxUrlBytes: config.VREG_MAX_URL_BYTES,
    receiveTimeoutMs: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
    maxConnections: config.VREG_MAX_CONNECTIONS,
    ...(config.VREG_TRUST_PROXY === undefined ? {} : { trustProxy: config.VREG_TRUST_PROXY }),
  });
  await server.register(requestTelemetry, { metrics: telemetry.metrics });
  await server.register(telemetry.fastifyPlugin());
  const ops = { renderMetrics: options.renderMetrics ?? (() => telemetry.renderMetrics()), readiness };
  // With VREG_OPS_LISTEN, metrics and health leave the public port for a listener of their own (workers share it as they share VREG_LISTEN).
  if (config.VREG_OPS_LISTEN === undefined) await server.register(opsRoutes, ops);
  await server.register(app.routes, { prefix: '/v2' });
  await server.listen(splitListen(config.VREG_LISTEN));
  // After the public listener: a worker's first listen is the address its primary reports.
  const opsServer = config.VREG_OPS_LISTEN === undefined ? undefined : await startOpsServer(config.VREG_OPS_LISTEN, ops);
  void readiness.logReport(logger);
  return {
    readiness,
    steps: [
      { name: 'server', close: () => server.close() },
      { name: 'app', close: () => app.stop() },
      { name: 'failures', close: () => failures.stop() },
      { name: 'bus', close: () => bus.close() },
      { name: 'store', close: () => store.close() },
      // Last: /readyz answers 503 to the probes while the rest stops.
      { name: 'ops', close: async () => opsServer?.close() },
    ],
  };
}
