import cluster from 'node:cluster';
import { startTelemetry } from '@vreg/telemetry';
import { WORKER_SLOT_ENV, workerCount } from '@vreg/workers';
import { loadGatewayConfig } from './config.ts';

// main.ts imports this module first. ES modules are evaluated in import
// order, so telemetry starts before the instrumented modules (the S3 client)
// are loaded, and the instrumentations can patch them.
export const config = loadGatewayConfig(process.env);
export const workers = workerCount(config.VREG_WORKERS);
// With workers, every process's metrics are merged on /metrics: per-process series carry which one.
const processLabels = cluster.isWorker ? { worker: process.env[WORKER_SLOT_ENV] ?? '?' } : workers > 1 ? { worker: 'primary' } : undefined;
export const telemetry = startTelemetry({ serviceName: 'vreg-gateway', config, ...(processLabels ? { processLabels } : {}) });
