// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry } from './main-telemetry.ts';
import { createLogger } from '@vreg/logging';
import { closeOnSignals, logTraceFields } from '@vreg/telemetry';
import { startEmbedded } from './embedded.ts';

// `npm start`: vreg in embedded mode. Signals and listen only.
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg', mixin: logTraceFields });
const vreg = await startEmbedded(config, logger, { telemetry });
if (vreg.adminTokenGenerated) {
  // Shown once, on the terminal only: it is the key to the admin API. It is kept in the data dir (mode 0600).
  process.stderr.write(`\nvreg admin token (shown once; stored in ${config.VREG_DATA_DIR}/admin-token): ${vreg.adminToken}\n\n`);
}
process.stderr.write(
  `vreg listening on ${vreg.url}  (pull: ${vreg.url.replace(/^https?:\/\//, '')}/virtual_registries/containers/<id>/<image>:<tag>, admin: ${vreg.url}/api/v1)\n`,
);
if (vreg.opsUrl) process.stderr.write(`vreg metrics and health on ${vreg.opsUrl}  (/metrics, /healthz, /readyz)\n`);

closeOnSignals({
  logger,
  readiness: vreg.readiness,
  // Pulls in flight may take minutes; a second Ctrl+C exits at once.
  timeoutMs: 0,
  steps: [
    { name: 'vreg', close: () => vreg.stop() },
    { name: 'telemetry', close: () => telemetry.shutdown() },
  ],
});
