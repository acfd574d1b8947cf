import { bool } from '@vreg/contracts';
import { z } from 'zod';

/**
 * Telemetry settings of every vreg process. Traces are exported over OTLP
 * when an endpoint is configured (the standard `OTEL_*` variables, as compose
 * and the Helm chart set them) or `VREG_OTEL=1`; `VREG_OTEL=0` or
 * `OTEL_SDK_DISABLED=true` turns them off. So embedded mode, which sets
 * neither, sends nothing. Metrics are always served on `/metrics`: on the
 * process's own port, or on VREG_OPS_LISTEN with the health endpoints.
 *
 * The OTLP exporter reads the rest of its standard variables itself
 * (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, `OTEL_TRACES_SAMPLER`...).
 */
export const TelemetryEnv = {
  /** `1`/`true` exports traces even without an endpoint (to the OTLP default, localhost:4318); `0`/`false` never does. */
  VREG_OTEL: bool.optional(),
  /** OTLP/HTTP base URL of a collector, e.g. `http://otel-collector:4318`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** OTLP/HTTP URL for traces only, e.g. `http://otel-collector:4318/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** `http/protobuf` (the default) or `http/json`; gRPC is not supported. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  /** `true` turns every signal off, as the OpenTelemetry specification says. */
  OTEL_SDK_DISABLED: bool.optional(),
  /** Service name of the spans and of `target_info`; defaults to the process name (`vreg-gateway`...). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /**
   * `host:port` of a listener of its own for `/metrics`, `/healthz` and
   * `/readyz` (e.g. `0.0.0.0:9464`, or `127.0.0.1:9464` for the node only).
   * When set, the three leave the public port (404 there): metrics name
   * upstream hosts and count per registry, and readiness names buckets and
   * servers. Point Kubernetes probes and Prometheus at it. Unset: served on
   * the process's own port, as before.
   */
  VREG_OPS_LISTEN: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:]+):\d{1,5}$/, 'must be host:port')
    .optional(),
};

export type TelemetryConfig = Readonly<{
  VREG_OTEL?: boolean | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: 'http/protobuf' | 'http/json' | undefined;
  OTEL_SDK_DISABLED?: boolean | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}>;

/** Whether traces are exported, by the rule above. */
export function tracesExported(config: TelemetryConfig): boolean {
  if (config.OTEL_SDK_DISABLED === true) return false;
  if (config.VREG_OTEL !== undefined) return config.VREG_OTEL;
  return config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}
