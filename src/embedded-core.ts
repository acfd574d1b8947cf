import { FsBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { buildApp as buildCatalog, type CatalogApp, SqliteCatalogStore } from '@vreg/catalog';
import { Streams } from '@vreg/contracts';
import { buildApp as buildFetcher } from '@vreg/fetcher';
import { MemoryFillLease } from '@vreg/fill-lease';
import type { Logger } from '@vreg/logging';
import { type Telemetry, UpstreamFailureBroadcaster } from '@vreg/telemetry';
import { httpUpstreamRegistryFromEnv, type UpstreamRegistry } from '@vreg/upstream-client';
import type { EmbeddedConfig } from './embedded-config.ts';
import { type EmbeddedKeys, loadEmbeddedKeys } from './embedded-keys.ts';

/** What embedded mode runs besides the gateway: the bus, the lease table, the store, the catalog and the fetcher. */
export interface EmbeddedCore {
  keys: EmbeddedKeys;
  bus: MemoryEventBus;
  leases: MemoryFillLease;
  store: FsBlobStore;
  upstreams: UpstreamRegistry;
  catalog: CatalogApp;
  /** Stops the fetcher, the catalog and the bus, and closes the database: after the gateways stopped. */
  stop(): Promise<void>;
}

/**
 * The part of embedded mode that lives once per data directory: the
 * in-process bus and fill leases, the SQLite catalog, the fetcher. The
 * gateway runs beside it (one process) or in worker processes that reach
 * the bus and the leases over IPC.
 */
export async function startEmbeddedCore(config: EmbeddedConfig, logger: Logger, telemetry: Telemetry): Promise<EmbeddedCore> {
  const metrics = telemetry.metrics;
  const keys = await loadEmbeddedKeys(config, logger);
  const bus = new MemoryEventBus({ logger, metrics });
  await bus.ensureStreams(Object.values(Streams));
  const leases = new MemoryFillLease();
  const store = new FsBlobStore({ root: keys.dataDir });
  const catalogStore = SqliteCatalogStore.open({ dataDir: keys.dataDir });
  const upstreams = httpUpstreamRegistryFromEnv(config);

  const catalog = buildCatalog(
    config,
    // The same blob store as the gateway and fetcher: GC deletes what no entry references any more.
    { bus, store: catalogStore, secretBox: keys.secrets, logger, adminToken: keys.admin.value, blobs: store },
  );
  const fetcher = buildFetcher(config, { bus, store, leases, upstreams, secrets: keys.secrets, logger, metrics });
  // The console's overview lists upstream errors: broadcast on the in-process bus to the catalog, as in distributed mode.
  const failures = new UpstreamFailureBroadcaster({ bus, logger });
  failures.start(metrics);
  await catalog.start();
  await fetcher.start();

  return {
    keys,
    bus,
    leases,
    store,
    upstreams,
    catalog,
    async stop() {
      await fetcher.stop();
      await catalog.stop();
      failures.stop();
      await bus.close();
      await catalogStore.close();
    },
  };
}
