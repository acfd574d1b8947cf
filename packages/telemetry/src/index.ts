/**
 * @vreg/telemetry: OpenTelemetry for every vreg process. Traces (OTLP,
 * opt-in by the standard OTEL_* variables), the metrics the dashboards
 * query (Prometheus text on /metrics), W3C trace context on bus messages,
 * per-request logs and metrics, /healthz and /readyz.
 */

export {
  closeInOrder,
  closeOnSignals,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type GracefulShutdownOptions,
  type ShutdownStep,
} from './graceful-shutdown.ts';
export { InstrumentedUpstreamRegistry, parseRateLimitRemaining, upstreamLabel } from './instrumented-upstream-registry.ts';
export { logTraceFields, traceFieldsOf } from './log-trace-fields.ts';
export { GAUGE_MERGES, type GaugeMerge, mergeExpositions, withoutGauges } from './merge-expositions.ts';
export { extractTraceContext, injectTraceContext, traceAnswer, traceDelivery, tracePublish, traceRequest } from './message-tracing.ts';
export { MeteredFillLease } from './metered-fill-lease.ts';
export { type OpsRoutesOptions, opsRequestListener, opsRoutes } from './ops-routes.ts';
export { type OpsServer, startOpsServer } from './ops-server.ts';
export { PrometheusText } from './prometheus-text.ts';
export { Readiness, type ReadinessCheck, type ReadinessReport, readinessStatusCode } from './readiness.ts';
export { catalogCheck, natsCheck, storeCheck } from './readiness-checks.ts';
export {
  type NotedPull,
  notePull,
  type RequestTelemetryOptions,
  requestTelemetry,
  type StreamedBody,
  streamedBody,
} from './request-telemetry.ts';
export { type StartTelemetryOptions, startTelemetry, type Telemetry } from './start-telemetry.ts';
export { type TelemetryConfig, TelemetryEnv, tracesExported } from './telemetry-env.ts';
export { type Broadcaster, redactUrls, UpstreamFailureBroadcaster } from './upstream-failure-broadcaster.ts';
export { OPS_PATHS, withoutQuery } from './url-redaction.ts';
export {
  type BusMetrics,
  type BytesSource,
  type CacheResultLabel,
  type ObjectKindLabel,
  type PendingReader,
  type UpstreamFailureListener,
  VregMetrics,
} from './vreg-metrics.ts';
