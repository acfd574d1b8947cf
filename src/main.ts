// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry, workers } from './main-telemetry.ts';
import cluster from 'node:cluster';
import { createLogger } from '@vreg/logging';
import { closeOnSignals, logTraceFields } from '@vreg/telemetry';

// `npm start`: vreg in embedded mode, in one process or a primary and VREG_WORKERS workers. Signals and listen only.
// Each role loads only its own modules: a worker never loads the catalog or the fetcher.
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg', mixin: logTraceFields });
if (cluster.isWorker) {
  // A worker stops on its primary's word, not on signals.
  const { runEmbeddedWorker } = await import('./embedded-worker.ts');
  await runEmbeddedWorker(config, logger, telemetry);
} else {
  const starting =
    workers > 1
      ? import('./embedded-primary.ts').then((m) => m.startEmbeddedPrimary(config, logger, telemetry, workers))
      : import('./embedded.ts').then((m) => m.startEmbedded(config, logger, { telemetry }));
  // Taken from the first moment: with workers, one may answer (and be told to stop) while the others still start.
  closeOnSignals({
    logger,
    // Pulls in flight may take minutes; a second Ctrl+C exits at once.
    timeoutMs: 0,
    steps: [
      // vreg's stop marks /readyz stopping first.
      { name: 'vreg', close: async () => (await starting).stop() },
      { name: 'telemetry', close: () => telemetry.shutdown() },
    ],
  });
  const vreg = await starting;
  if (vreg.adminTokenGenerated) {
    // Shown once, on the terminal only: it is the key to the admin API. It is kept in the data dir (mode 0600).
    process.stderr.write(`\nvreg admin token (shown once; stored in ${config.VREG_DATA_DIR}/admin-token): ${vreg.adminToken}\n\n`);
  }
  process.stderr.write(
    `vreg listening on ${vreg.url}${workers > 1 ? ` (${workers} workers)` : ''}  (pull: ${vreg.url.replace(/^https?:\/\//, '')}/virtual_registries/containers/<id>/<image>:<tag>, admin: ${vreg.url}/api/v1)\n`,
  );
  // With workers, they share the ops listener: its address is the setting's.
  const opsUrl = 'opsUrl' in vreg ? vreg.opsUrl : config.VREG_OPS_LISTEN && `http://${config.VREG_OPS_LISTEN}`;
  if (opsUrl) process.stderr.write(`vreg metrics and health on ${opsUrl}  (/metrics, /healthz, /readyz)\n`);
}
