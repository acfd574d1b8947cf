import { ErrorCodes, hasCode } from '@vreg/contracts';
import { startTelemetry } from '@vreg/telemetry';
import { type CatalogConfig, loadCatalogConfig } from './config.ts';

// main.ts imports this module first. ES modules are evaluated in import
// order, so telemetry starts before the instrumented modules (the MongoDB
// driver) are loaded, and the instrumentations can patch them.
export const config = loadOrExit();
export const telemetry = startTelemetry({ serviceName: 'vreg-catalog', config });

function loadOrExit(): CatalogConfig {
  try {
    return loadCatalogConfig(process.env);
  } catch (err) {
    // A configuration error lists its problems; print them plainly, no stack.
    if (!hasCode(err, ErrorCodes.configInvalid)) throw err;
    console.error((err as Error).message);
    process.exit(1);
  }
}
