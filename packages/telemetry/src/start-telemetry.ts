import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { FastifyPluginAsync } from 'fastify';
import { EventLoopDelay } from './event-loop-delay.ts';
import { PrometheusText } from './prometheus-text.ts';
import { type TelemetryConfig, tracesExported } from './telemetry-env.ts';
import { OPS_PATHS, withoutQuery } from './url-redaction.ts';
import { VregMetrics } from './vreg-metrics.ts';

export interface StartTelemetryOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` says otherwise: `vreg-gateway`, `vreg-fetcher`, `vreg-catalog`, `vreg`. */
  serviceName: string;
  config: TelemetryConfig;
  /**
   * Span processors to use instead of the OTLP exporter (tests pass an
   * in-memory exporter). Giving any turns tracing on.
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Labels of this process among several serving one address (a worker's
   * `worker: "<slot>"`, the primary's `worker: "primary"`), on the metrics
   * that describe one process (the event loop's delay). Default: none.
   */
  processLabels?: Record<string, string>;
}

/** What a process's telemetry offers its wiring. */
export interface Telemetry {
  /** The metrics every component records into; rendered by `renderMetrics`. */
  readonly metrics: VregMetrics;
  /** True when spans are recorded and exported. */
  readonly tracing: boolean;
  /** The Prometheus text exposition of every metric (for `GET /metrics`). */
  renderMetrics(): Promise<string>;
  /**
   * The `@fastify/otel` plugin when tracing is on (a request span, the
   * handler's span, errors recorded), a no-op plugin otherwise. Register it
   * on the server before the routes.
   */
  fastifyPlugin(): FastifyPluginAsync;
  /** Flushes pending spans and stops the providers. */
  shutdown(): Promise<void>;
}

/**
 * Sets up OpenTelemetry for one process: metrics always (pulled by
 * Prometheus from `/metrics`), traces when `tracesExported(config)` says so,
 * exported over OTLP/HTTP (protobuf) as the standard `OTEL_*` variables
 * configure, with the http, undici, mongodb and aws-sdk instrumentations.
 *
 * Call it before the process creates its servers and clients: the http,
 * mongodb and aws-sdk instrumentations patch modules as they are loaded
 * (undici and fastify need no patching: diagnostics channels and a plugin).
 * The tracer provider becomes the global one (the bus adapters and the
 * instrumentations use the global API); metrics stay on this instance.
 */
export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  const resource = resourceFromAttributes({
    'service.name': options.config.OTEL_SERVICE_NAME ?? options.serviceName,
    'service.namespace': 'vreg',
  }).merge(detectResources({ detectors: [envDetector] }));
  const prometheus = new PrometheusText();
  const meterProvider = new MeterProvider({ resource, readers: [prometheus.reader] });
  const metrics = new VregMetrics(meterProvider.getMeter('vreg'));
  const loopDelay = new EventLoopDelay(meterProvider.getMeter('vreg'), options.processLabels);

  const tracing = options.spanProcessors !== undefined || tracesExported(options.config);
  let tracerProvider: NodeTracerProvider | undefined;
  let fastifyOtel: FastifyOtelInstrumentation | undefined;
  let unregister: (() => void) | undefined;
  if (tracing) {
    // OTLP over HTTP, protobuf by default as the specification says; JSON when asked.
    const exporter =
      options.config.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json' ? new OTLPJsonTraceExporter() : new OTLPProtoTraceExporter();
    tracerProvider = new NodeTracerProvider({ resource, spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(exporter)] });
    tracerProvider.register();
    fastifyOtel = new FastifyOtelInstrumentation({
      // The request span and the handler's; a span per hook is noise on every pull.
      instrumentHooks: false,
      ignorePaths: (route: { url: string }) => OPS_PATHS.has(withoutQuery(route.url)),
      requestHook: (span, request) => span.setAttribute('url.path', withoutQuery(request.url)),
    });
    // Spans only: the instrumentations' own metrics stay off (no meter
    // provider given); vreg's metrics are the ones the dashboards read.
    unregister = registerInstrumentations({
      tracerProvider,
      instrumentations: [
        new HttpInstrumentation({
          ignoreIncomingRequestHook: (req) => OPS_PATHS.has(withoutQuery(req.url ?? '')),
          // A query string is the client's to choose: never recorded.
          requestHook: (span) => span.setAttribute('url.query', ''),
        }),
        new UndiciInstrumentation({
          // Redirects lead to CDNs whose URLs carry signatures in the query: never record it.
          requestHook: (span, request) => {
            span.setAttribute('url.full', withoutQuery(`${request.origin}${request.path}`));
            span.setAttribute('url.query', '');
          },
        }),
        new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
        new AwsInstrumentation({ suppressInternalInstrumentation: true }),
        fastifyOtel,
      ],
    });
    // Core modules are patched when next required: make that now, before
    // any server is created, whichever way the process loaded them.
    const require = createRequire(import.meta.url);
    require('node:http');
    require('node:https');
  }

  const noopPlugin: FastifyPluginAsync = async () => undefined;
  return {
    metrics,
    tracing,
    renderMetrics: () => prometheus.render(),
    fastifyPlugin: () => (fastifyOtel ? (fastifyOtel.plugin() as unknown as FastifyPluginAsync) : noopPlugin),
    async shutdown() {
      unregister?.();
      loopDelay.stop();
      await Promise.allSettled([tracerProvider?.shutdown(), meterProvider.shutdown()]);
      if (tracerProvider) trace.disable();
    },
  };
}
