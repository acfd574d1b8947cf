// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry } from './main-telemetry.ts';
import { openS3BlobStoreFromEnv } from '@vreg/blob-store';
import { NatsEventBus } from '@vreg/bus';
import { Streams, splitList, streamLimitsOf } from '@vreg/contracts';
import { NatsKvFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { secretBoxFromEnv } from '@vreg/secrets';
import {
  catalogCheck,
  closeOnSignals,
  logTraceFields,
  natsCheck,
  Readiness,
  startOpsServer,
  storeCheck,
  UpstreamFailureBroadcaster,
} from '@vreg/telemetry';
import { httpUpstreamRegistryFromEnv } from '@vreg/upstream-client';
import { buildApp } from './app.ts';

// Distributed mode: one fetcher process. Signals, health and start only.
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-fetcher', mixin: logTraceFields });
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
const store = await openS3BlobStoreFromEnv(config);
const upstreams = httpUpstreamRegistryFromEnv(config);
const app = buildApp(config, { bus, store, leases, upstreams, secrets: secretBoxFromEnv(config), logger, metrics: telemetry.metrics });
// The console's overview lists upstream errors: the catalog hears of this process's over the bus (throttled).
const failures = new UpstreamFailureBroadcaster({ bus, logger });
failures.start(telemetry.metrics);
await app.start();

// /healthz, /readyz and /metrics; the fetcher has no other HTTP surface. It needs all three dependencies for every fill.
const readiness = new Readiness([natsCheck(bus.connection), storeCheck(store), catalogCheck(bus)]);
// Its only listener: VREG_OPS_LISTEN when set (the same as the other services'), else VREG_LISTEN.
const listen = config.VREG_OPS_LISTEN ?? config.VREG_LISTEN;
const health = await startOpsServer(listen, { renderMetrics: () => telemetry.renderMetrics(), readiness });
logger.info({ listen }, 'fetcher started');
void readiness.logReport(logger);

closeOnSignals({
  logger,
  readiness,
  // The fills in flight may take minutes: the pod's terminationGracePeriodSeconds bounds the stop, not a deadline of ours.
  timeoutMs: 0,
  steps: [
    { name: 'health', close: () => health.close() },
    { name: 'app', close: () => app.stop() },
    { name: 'failures', close: () => failures.stop() },
    { name: 'bus', close: () => bus.close() },
    { name: 'telemetry', close: () => telemetry.shutdown() },
  ],
});
