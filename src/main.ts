// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry, workers } from './main-telemetry.ts';
import cluster from 'node:cluster';
import { createLogger } from '@vreg/logging';
import { logTraceFields } from '@vreg/telemetry';
import { stopOnSignals } from '@vreg/workers';

// `npm start`: vreg in embedded mode, in one process or a primary and VREG_WORKERS workers. Signals and listen only.
// Each role loads only its own modules: a worker never loads the catalog or the fetcher.
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg', mixin: logTraceFields });
if (cluster.isWorker) {
  const { runEmbeddedWorker } = await import('./embedded-worker.ts');
  await runEmbeddedWorker(config, logger, telemetry);
} else {
  const signals = stopOnSignals();
  const vreg =
    workers > 1
      ? await (await import('./embedded-primary.ts')).startEmbeddedPrimary(config, logger, telemetry, workers)
      : await (await import('./embedded.ts')).startEmbedded(config, logger, { telemetry });
  signals.ready(async () => {
    await vreg.stop();
    await telemetry.shutdown();
  });
  if (vreg.adminTokenGenerated) {
    // Shown once, on the terminal only: it is the key to the admin API. It is kept in the data dir (mode 0600).
    process.stderr.write(`\nvreg admin token (shown once; stored in ${config.VREG_DATA_DIR}/admin-token): ${vreg.adminToken}\n\n`);
  }
  process.stderr.write(
    `vreg listening on ${vreg.url}${workers > 1 ? ` (${workers} workers)` : ''}  (pull: ${vreg.url.replace(/^https?:\/\//, '')}/virtual_registries/containers/<id>/<image>:<tag>, admin: ${vreg.url}/api/v1)\n`,
  );
}
