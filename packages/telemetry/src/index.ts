/**
 * @vreg/telemetry: OpenTelemetry for every vreg process. Traces (OTLP,
 * opt-in by the standard OTEL_* variables), the metrics the dashboards
 * query (Prometheus text on /metrics), W3C trace context on bus messages,
 * per-request logs and metrics, /healthz and /readyz.
 */
export { TelemetryEnv, tracesExported, type TelemetryConfig } from './telemetry-env.ts';
export { startTelemetry, type StartTelemetryOptions, type Telemetry } from './start-telemetry.ts';
export { VregMetrics, type BusMetrics, type BytesSource, type CacheResultLabel, type ObjectKindLabel, type PendingReader, type UpstreamFailureListener } from './vreg-metrics.ts';
export { PrometheusText } from './prometheus-text.ts';
export { extractTraceContext, injectTraceContext, traceAnswer, traceDelivery, tracePublish, traceRequest } from './message-tracing.ts';
export { logTraceFields, traceFieldsOf } from './log-trace-fields.ts';
export { requestTelemetry, type RequestTelemetryOptions } from './request-telemetry.ts';
export { Readiness, readinessStatusCode, type ReadinessCheck, type ReadinessReport } from './readiness.ts';
export { catalogCheck, natsCheck, storeCheck } from './readiness-checks.ts';
export { opsRequestListener, opsRoutes, type OpsRoutesOptions } from './ops-routes.ts';
export { InstrumentedUpstreamRegistry, parseRateLimitRemaining, upstreamLabel } from './instrumented-upstream-registry.ts';
export { MeteredFillLease } from './metered-fill-lease.ts';
export { UpstreamFailureBroadcaster, redactUrls, type Broadcaster } from './upstream-failure-broadcaster.ts';
export { OPS_PATHS, withoutQuery } from './url-redaction.ts';
