import { FsBlobStore } from '@vreg/blob-store';
import { splitListen } from '@vreg/contracts';
import { buildApp as buildGateway, createServer } from '@vreg/gateway';
import type { Logger } from '@vreg/logging';
import {
  catalogCheck,
  opsRoutes,
  Readiness,
  requestTelemetry,
  startOpsServer,
  storeCheck,
  type Telemetry,
  UpstreamFailureBroadcaster,
} from '@vreg/telemetry';
import { httpUpstreamRegistryFromEnv } from '@vreg/upstream-client';
import { connectToPrimary, IpcEventBus, IpcFillLease, stopWhenAsked, WorkerKinds } from '@vreg/workers';
import type { EmbeddedConfig } from './embedded-config.ts';
import { PRIMARY_SOCKET_KIND } from './embedded-ipc.ts';
import { loadEmbeddedKeys } from './embedded-keys.ts';
import { forwardToPrimary } from './forward-to-primary.ts';

/**
 * A worker process of embedded mode: the gateway on VREG_LISTEN (cluster
 * shares the address with the other workers), its bus and fill leases the
 * primary's over IPC, blobs on the same disk. The admin API and the console
 * are forwarded to the primary; `/metrics` answers for every process.
 * Stops when the primary says so. Loads only what the gateway needs (not
 * the catalog, its database drivers or the fetcher): a worker is the
 * process that serves, and its memory is the figure that counts.
 */
export async function runEmbeddedWorker(config: EmbeddedConfig, logger: Logger, telemetry: Telemetry): Promise<void> {
  const { link } = connectToPrimary();
  const stopping = stopWhenAsked(link, logger);
  const metrics = telemetry.metrics;
  const keys = await loadEmbeddedKeys(config, logger);
  const bus = new IpcEventBus(link, logger);
  const leases = new IpcFillLease(link);
  const store = new FsBlobStore({ root: keys.dataDir });
  const upstreams = httpUpstreamRegistryFromEnv(config);
  const gateway = buildGateway(config, {
    bus,
    store,
    leases,
    upstreams,
    secrets: keys.secrets,
    logger,
    signingKeys: keys.signingKeys,
    metrics,
  });
  const failures = new UpstreamFailureBroadcaster({ bus, logger });
  failures.start(metrics);
  link.handle(WorkerKinds.renderMetrics, () => telemetry.renderMetrics());

  const server = createServer(logger, {
    maxHeaderBytes: config.VREG_MAX_HEADER_BYTES,
    maxUrlBytes: config.VREG_MAX_URL_BYTES,
    receiveTimeoutMs: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
    maxConnections: config.VREG_MAX_CONNECTIONS,
    // Forwarded admin URLs carry long cache entry ids; the URL limit bounds every parameter anyway.
    maxParamLength: config.VREG_MAX_URL_BYTES,
    ...(config.VREG_TRUST_PROXY === undefined ? {} : { trustProxy: config.VREG_TRUST_PROXY }),
  });
  // The catalog answers through the primary: this check covers the link too.
  const readiness = new Readiness([storeCheck(store), catalogCheck(bus)]);
  await server.register(requestTelemetry, { metrics });
  await server.register(telemetry.fastifyPlugin());
  const ops = { renderMetrics: () => link.request<string>(WorkerKinds.gatherMetrics, null, 15_000), readiness };
  // With VREG_OPS_LISTEN, metrics and health leave the public port for a listener the workers share as they share VREG_LISTEN.
  if (config.VREG_OPS_LISTEN === undefined) await server.register(opsRoutes, ops);
  await server.register(gateway.routes, { prefix: '/v2' });
  await server.register(forwardToPrimary, {
    socketPath: await link.request<string>(PRIMARY_SOCKET_KIND, null, 10_000),
    prefixes: ['/api', '/console'],
  });
  await server.listen(splitListen(config.VREG_LISTEN));
  // After the public listener: a worker's first listen is the address its primary reports.
  const opsServer = config.VREG_OPS_LISTEN === undefined ? undefined : await startOpsServer(config.VREG_OPS_LISTEN, ops);

  stopping.serving(async () => {
    readiness.markStopping();
    await server.close();
    await gateway.stop();
    failures.stop();
    await store.close();
    await opsServer?.close();
    await telemetry.shutdown();
  });
}
