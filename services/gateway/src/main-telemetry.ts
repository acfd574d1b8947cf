import { startTelemetry } from '@vreg/telemetry';
import { loadGatewayConfig } from './config.ts';

// main.ts imports this module first. ES modules are evaluated in import
// order, so telemetry starts before the instrumented modules (the S3 client)
// are loaded, and the instrumentations can patch them.
export const config = loadGatewayConfig(process.env);
export const telemetry = startTelemetry({ serviceName: 'vreg-gateway', config });
