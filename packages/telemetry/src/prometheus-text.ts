import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader that only collects when asked: Prometheus pulls. */
class PullMetricReader extends MetricReader {
  constructor() {
    // Prometheus expects cumulative counters and histograms.
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  protected override async onForceFlush(): Promise<void> {}

  protected override async onShutdown(): Promise<void> {}
}

/**
 * The Prometheus text exposition of an OpenTelemetry `MeterProvider`:
 * `@opentelemetry/exporter-prometheus`'s serializer over a pull reader, so
 * the metrics are served on the service's own HTTP port (no second server,
 * as the exporter would start). Scope labels are left out; `target_info`
 * carries the resource (service name).
 */
export class PrometheusText {
  readonly reader: MetricReader = new PullMetricReader();
  readonly #serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

  /** Collects every instrument now and renders it. */
  async render(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect({ timeoutMillis: 5_000 });
    return this.#serializer.serialize(resourceMetrics);
  }
}
