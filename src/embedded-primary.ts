import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CACHE_ENTRY_ID_LENGTH } from '@vreg/catalog';
import { createServer } from '@vreg/gateway';
import type { Logger } from '@vreg/logging';
import type { Telemetry } from '@vreg/telemetry';
import { MetricsGatherer, serveEventBus, serveFillLease, WorkerKinds, WorkerSupervisor } from '@vreg/workers';
import type { EmbeddedConfig } from './embedded-config.ts';
import { startEmbeddedCore } from './embedded-core.ts';
import { PRIMARY_SOCKET_KIND } from './embedded-ipc.ts';

export interface EmbeddedPrimary {
  /** `http://host:port` the workers listen on. */
  url: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  /** Pids of the worker processes. */
  workerPids(): number[];
  stop(): Promise<void>;
}

/**
 * Embedded mode with worker processes (VREG_WORKERS > 1), the primary's
 * part: the bus, the fill leases, the SQLite catalog and the fetcher live
 * here, once; `workers` processes run the gateway on VREG_LISTEN (cluster
 * hands them the connections) and reach the bus and the leases over IPC.
 * The admin API and the console need the database, so workers forward
 * them to this process's private server: a Unix socket in a directory only
 * this user can enter. `/metrics` on any worker merges every process's.
 */
export async function startEmbeddedPrimary(
  config: EmbeddedConfig,
  logger: Logger,
  telemetry: Telemetry,
  workers: number,
): Promise<EmbeddedPrimary> {
  const core = await startEmbeddedCore(config, logger, telemetry);
  const socketDir = await mkdtemp(join(tmpdir(), 'vreg-'));
  const socketPath = join(socketDir, 'primary.sock');
  const server = createServer(logger, {
    maxHeaderBytes: config.VREG_MAX_HEADER_BYTES,
    maxUrlBytes: config.VREG_MAX_URL_BYTES,
    maxParamLength: MAX_CACHE_ENTRY_ID_LENGTH,
    // Only workers reach the socket, and they set X-Forwarded-* from what they determined of the client.
    trustProxy: true,
  });
  await server.register(core.catalog.adminApi, { prefix: '/api/v1' });
  await server.register(core.catalog.console, { prefix: '/console' });
  await server.listen({ path: socketPath });

  const supervisor: WorkerSupervisor = new WorkerSupervisor({
    count: workers,
    logger,
    attach: (link, slot) => {
      const stopBus = serveEventBus(link, core.bus);
      const stopLeases = serveFillLease(link, core.leases);
      link.handle(PRIMARY_SOCKET_KIND, () => socketPath);
      link.handle(WorkerKinds.gatherMetrics, () => metrics.gather());
      return async () => {
        metrics.retire(slot);
        await stopLeases();
        await stopBus();
      };
    },
  });
  const metrics = new MetricsGatherer(
    () => telemetry.renderMetrics(),
    () => supervisor.links(),
  );
  try {
    await supervisor.start();
  } catch (err) {
    await supervisor.stop();
    await server.close();
    await core.stop();
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: supervisor.url() ?? `http://${config.VREG_LISTEN}`,
    adminToken: core.keys.admin.value,
    adminTokenGenerated: core.keys.admin.created,
    workerPids: () => supervisor.pids(),
    async stop() {
      // Workers first: they finish their requests and publish what they owe on the bus, which is still up.
      await supervisor.stop();
      await server.close();
      await core.stop();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
