import { MAX_CACHE_ENTRY_ID_LENGTH } from '@vreg/catalog';
import { splitListen } from '@vreg/contracts';
import { buildApp as buildGateway, createServer } from '@vreg/gateway';
import type { Logger } from '@vreg/logging';
import {
  catalogCheck,
  opsRoutes,
  Readiness,
  requestTelemetry,
  startOpsServer,
  startTelemetry,
  storeCheck,
  type Telemetry,
} from '@vreg/telemetry';
import type { FastifyInstance } from 'fastify';
import type { EmbeddedConfig } from './embedded-config.ts';
import { startEmbeddedCore } from './embedded-core.ts';

export interface EmbeddedVreg {
  /** `http://host:port` the server listens on. */
  url: string;
  /** `http://host:port` of the ops listener (/metrics, /healthz, /readyz) when VREG_OPS_LISTEN is set. */
  opsUrl?: string;
  server: FastifyInstance;
  adminToken: string;
  /** True when this start generated the admin token (show it once). */
  adminTokenGenerated: boolean;
  /** `/readyz`'s checks; a stop marks it stopping first. */
  readiness: Readiness;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /**
   * The process's telemetry, started before anything else was loaded
   * (src/main.ts does). Without it, a metrics-only one is made for this
   * instance (and stopped with it).
   */
  telemetry?: Telemetry;
}

/**
 * Embedded mode: gateway, fetcher and catalog in one process, wired through
 * an in-process bus, blobs on disk and the catalog in SQLite, all under
 * `VREG_DATA_DIR`. Nothing to install. The same service code as the
 * distributed mode; only the adapters differ.
 */
export async function startEmbedded(config: EmbeddedConfig, logger: Logger, options: EmbeddedOptions = {}): Promise<EmbeddedVreg> {
  const telemetry = options.telemetry ?? startTelemetry({ serviceName: 'vreg', config: { VREG_OTEL: false } });
  const metrics = telemetry.metrics;
  const core = await startEmbeddedCore(config, logger, telemetry);
  const { bus, leases, store, upstreams, catalog, keys } = core;
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

  const server = createServer(logger, {
    maxHeaderBytes: config.VREG_MAX_HEADER_BYTES,
    maxUrlBytes: config.VREG_MAX_URL_BYTES,
    receiveTimeoutMs: config.VREG_REQUEST_RECEIVE_TIMEOUT_MS,
    maxConnections: config.VREG_MAX_CONNECTIONS,
    // The admin API is on this server too: its cache entry ids are long route parameters.
    maxParamLength: MAX_CACHE_ENTRY_ID_LENGTH,
    ...(config.VREG_TRUST_PROXY === undefined ? {} : { trustProxy: config.VREG_TRUST_PROXY }),
  });
  // Everything is in this process: the store and the catalog (SQLite, over the in-process bus) are the dependencies.
  const readiness = new Readiness([storeCheck(store), catalogCheck(bus)]);
  await server.register(requestTelemetry, { metrics });
  await server.register(telemetry.fastifyPlugin());
  const ops = { renderMetrics: () => telemetry.renderMetrics(), readiness };
  // With VREG_OPS_LISTEN, metrics and health leave the public port for a listener of their own.
  const opsServer = config.VREG_OPS_LISTEN === undefined ? undefined : await startOpsServer(config.VREG_OPS_LISTEN, ops);
  if (opsServer === undefined) await server.register(opsRoutes, ops);
  await server.register(gateway.routes, { prefix: '/v2' });
  await server.register(catalog.adminApi, { prefix: '/api/v1' });
  await server.register(catalog.console, { prefix: '/console' });
  const address = await server.listen(splitListen(config.VREG_LISTEN));

  return {
    url: address,
    ...(opsServer ? { opsUrl: opsServer.url } : {}),
    server,
    adminToken: keys.admin.value,
    adminTokenGenerated: keys.admin.created,
    readiness,
    async stop() {
      readiness.markStopping();
      await server.close();
      await gateway.stop();
      await core.stop();
      await opsServer?.close();
      if (!options.telemetry) await telemetry.shutdown();
    },
  };
}
