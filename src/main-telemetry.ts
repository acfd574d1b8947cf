import cluster from 'node:cluster';
import { startTelemetry } from '@vreg/telemetry';
import { WORKER_SLOT_ENV, workerCount } from '@vreg/workers';
import { loadEmbeddedConfig } from './embedded-config.ts';

// main.ts imports this module first. ES modules are evaluated in import
// order, so telemetry starts before the instrumented modules are loaded.
// Traces stay off unless OTEL_EXPORTER_OTLP_ENDPOINT or VREG_OTEL=1 is set.
export const config = loadEmbeddedConfig(process.env);
// `auto` gives every CPU a worker: hits, most of a cache's traffic, never reach the primary (its catalog and fetcher work comes with misses).
export const workers = workerCount(config.VREG_WORKERS);
// With workers, every process's metrics are merged on /metrics: per-process series carry which one.
const processLabels = cluster.isWorker ? { worker: process.env[WORKER_SLOT_ENV] ?? '?' } : workers > 1 ? { worker: 'primary' } : undefined;
export const telemetry = startTelemetry({ serviceName: 'vreg', config, ...(processLabels ? { processLabels } : {}) });
