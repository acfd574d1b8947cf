// biome-ignore-all assist/source/organizeImports: telemetry must start before the modules it instruments load, and ES modules evaluate in import order.
import { config, telemetry, workers } from './main-telemetry.ts';
import cluster from 'node:cluster';
import { createLogger } from '@vreg/logging';
import { closeInOrder, closeOnSignals, logTraceFields } from '@vreg/telemetry';
import { connectToPrimary, MetricsGatherer, stopWhenAsked, WorkerKinds, WorkerSupervisor } from '@vreg/workers';

// Distributed mode: one gateway process, or a primary and VREG_WORKERS gateway workers on one address. Signals and listen only.
// The primary of workers supervises only: it never loads the NATS, S3 or gateway modules.
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-gateway', mixin: logTraceFields });
if (cluster.isWorker) {
  // A worker stops on its primary's word, not on signals.
  const { link } = connectToPrimary();
  const stopping = stopWhenAsked(link, logger);
  link.handle(WorkerKinds.renderMetrics, () => telemetry.renderMetrics());
  const { startGatewayProcess } = await import('./gateway-process.ts');
  const gateway = await startGatewayProcess(config, telemetry, logger, {
    renderMetrics: () => link.request<string>(WorkerKinds.gatherMetrics, null, 15_000),
  });
  stopping.serving(async () => {
    gateway.readiness.markStopping();
    await closeInOrder(logger, [...gateway.steps, { name: 'telemetry', close: () => telemetry.shutdown() }]);
  });
} else if (workers > 1) {
  // The primary only supervises: the workers connect to NATS and S3 and serve.
  const supervisor: WorkerSupervisor = new WorkerSupervisor({
    count: workers,
    logger,
    attach: (link, slot) => {
      link.handle(WorkerKinds.gatherMetrics, () => metrics.gather());
      return async () => metrics.retire(slot);
    },
  });
  const metrics = new MetricsGatherer(
    () => telemetry.renderMetrics(),
    () => supervisor.links(),
  );
  const starting = supervisor.start();
  // Taken from the first moment: one worker may answer (and be told to stop) while the others still start.
  closeOnSignals({
    logger,
    // The pulls in flight may take minutes: the pod's terminationGracePeriodSeconds bounds the stop, not a deadline of ours.
    timeoutMs: 0,
    steps: [
      { name: 'workers', close: () => starting.finally(() => supervisor.stop()) },
      { name: 'telemetry', close: () => telemetry.shutdown() },
    ],
  });
  await starting;
} else {
  const { startGatewayProcess } = await import('./gateway-process.ts');
  const gateway = await startGatewayProcess(config, telemetry, logger);
  closeOnSignals({
    logger,
    readiness: gateway.readiness,
    // The pulls in flight may take minutes: the pod's terminationGracePeriodSeconds bounds the stop, not a deadline of ours.
    timeoutMs: 0,
    steps: [...gateway.steps, { name: 'telemetry', close: () => telemetry.shutdown() }],
  });
}
