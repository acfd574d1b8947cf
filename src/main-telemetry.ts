import { startTelemetry } from '@vreg/telemetry';
import { loadEmbeddedConfig } from './embedded-config.ts';

// main.ts imports this module first. ES modules are evaluated in import
// order, so telemetry starts before the instrumented modules are loaded.
// Traces stay off unless OTEL_EXPORTER_OTLP_ENDPOINT or VREG_OTEL=1 is set.
export const config = loadEmbeddedConfig(process.env);
export const telemetry = startTelemetry({ serviceName: 'vreg', config });
