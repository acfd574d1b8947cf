// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry } from './main-telemetry.ts';
import { openS3BlobStoreFromEnv } from '@vreg/blob-store';
import { NatsEventBus } from '@vreg/bus';
import { ErrorCodes, hasCode, splitList, splitListen, streamLimitsOf } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { secretBoxFromEnv } from '@vreg/secrets';
import {
  closeOnSignals,
  logTraceFields,
  natsCheck,
  opsRoutes,
  Readiness,
  requestTelemetry,
  startOpsServer,
  storeCheck,
} from '@vreg/telemetry';
import Fastify, { LogController } from 'fastify';
import { MongoCatalogStore } from './adapters/mongo/mongo-catalog-store.ts';
import { buildApp } from './app.ts';
import { MAX_CACHE_ENTRY_ID_LENGTH } from './domain/cache-entry-id.ts';
import { adminFrameworkErrors, adminRootHandlers } from './http/admin-framework-errors.ts';

/**
 * The catalog as its own process (distributed mode): NATS JetStream, a
 * MongoDB-wire server, the S3 bucket (GC only), the admin API and /healthz on VREG_LISTEN. SIGTERM
 * or SIGINT stops taking requests and messages, finishes those in progress,
 * then closes the bus and the database.
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-catalog', mixin: logTraceFields });
  const bus = await NatsEventBus.connect({
    servers: splitList(config.VREG_NATS_URL),
    namespace: config.VREG_NAMESPACE,
    replicas: config.VREG_NATS_REPLICAS,
    streamLimits: streamLimitsOf(config),
    logger,
    name: 'vreg-catalog',
    metrics: telemetry.metrics,
  });
  const store = await MongoCatalogStore.connect({ url: config.VREG_MONGO_URL, dbName: config.VREG_MONGO_DB });
  // The bucket the gateway and fetcher write: GC deletes from it (see gc/gc-sweep.ts).
  const blobs = await openS3BlobStoreFromEnv(config);
  const app = buildApp(config, {
    bus,
    store,
    secretBox: secretBoxFromEnv(config),
    logger,
    adminToken: config.VREG_ADMIN_TOKEN,
    blobs,
  });

  // The catalog answers the data plane over NATS from its database: it needs both.
  // And the bucket: GC deletes from it, and recording a stored object may look into it.
  const readiness = new Readiness([
    natsCheck(bus.connection),
    { name: 'store', critical: true, check: () => store.registries.get('0') },
    { ...storeCheck(blobs), name: 'bucket' },
  ]);
  // One line per request comes from requestTelemetry, with trace ids and duration.
  const server = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: adminFrameworkErrors,
    routerOptions: { maxParamLength: MAX_CACHE_ENTRY_ID_LENGTH },
    // A request (headers and body) must arrive in time, as on the gateway; answers are not bounded.
    requestTimeout: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
    http: {
      requestTimeout: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
      headersTimeout: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(config.VREG_REQUEST_RECEIVE_TIMEOUT_MS / 10))),
    },
  });
  if (config.VREG_MAX_CONNECTIONS > 0) server.server.maxConnections = config.VREG_MAX_CONNECTIONS;
  adminRootHandlers(server);
  await server.register(requestTelemetry, { metrics: telemetry.metrics });
  await server.register(telemetry.fastifyPlugin());
  const ops = { renderMetrics: () => telemetry.renderMetrics(), readiness };
  // With VREG_OPS_LISTEN, metrics and health leave the admin API's port for a listener of their own.
  const opsServer = config.VREG_OPS_LISTEN === undefined ? undefined : await startOpsServer(config.VREG_OPS_LISTEN, ops);
  if (opsServer === undefined) await server.register(opsRoutes, ops);
  await server.register(app.adminApi, { prefix: '/api/v1' });
  await server.register(app.console, { prefix: '/console' });
  await app.start();
  await server.listen(splitListen(config.VREG_LISTEN));
  void readiness.logReport(logger);

  closeOnSignals({
    logger,
    readiness,
    steps: [
      { name: 'server', close: () => server.close() },
      { name: 'app', close: () => app.stop() },
      { name: 'bus', close: () => bus.close() },
      { name: 'store', close: () => store.close() },
      { name: 'blobs', close: () => blobs.close?.() },
      { name: 'ops', close: async () => opsServer?.close() },
      { name: 'telemetry', close: () => telemetry.shutdown() },
    ],
  });
}

main().catch((err: unknown) => {
  // A configuration error lists its problems; print them plainly, no stack.
  if (hasCode(err, ErrorCodes.configInvalid)) console.error((err as Error).message);
  else console.error('vreg catalog failed to start:', err);
  process.exit(1);
});
