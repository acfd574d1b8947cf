import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';

/** What the gauge reports, per collection window. */
const STATS = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['max', 100],
] as const;

/**
 * Exports how late this process's event loop ran, from
 * `perf_hooks.monitorEventLoopDelay`: `vreg_event_loop_delay_seconds{stat}`
 * with stat p50, p90, p99 and max over the window since the previous
 * collection (a scrape), after which the window starts again, the way
 * prom-client's `nodejs_eventloop_lag_*` gauges work. A stall (synchronous
 * work, a long GC pause) shows up as `max`: every request queued on this
 * loop waited at least that long.
 *
 * The monitor's timer fires every `resolutionMs` (10 ms, Node's default)
 * and records the time between two firings; the interval itself is taken
 * off, so an idle loop reads about 0.
 */
export class EventLoopDelay {
  readonly #histogram: ELDHistogram;
  readonly #resolutionNs: number;
  readonly #attributes: Attributes;

  /** @param attributes added to every sample (a worker process's `worker` label, so workers' loops stay apart when merged). */
  constructor(meter: Meter, attributes: Attributes = {}, resolutionMs = 10) {
    this.#resolutionNs = resolutionMs * 1e6;
    this.#attributes = attributes;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#histogram.enable();
    const gauge = meter.createObservableGauge('vreg_event_loop_delay_seconds', {
      description:
        'How late the event loop ran (perf_hooks.monitorEventLoopDelay), by stat p50/p90/p99/max over the window since the previous scrape',
      unit: 's',
    });
    gauge.addCallback((result) => this.#observe(result));
  }

  /** The window's figures in seconds, then a new window. Empty when no sample was taken. */
  take(): Record<(typeof STATS)[number][0], number> | undefined {
    const h = this.#histogram;
    if (h.count === 0) return undefined;
    const late = (ns: number): number => Math.max(0, ns - this.#resolutionNs) / 1e9;
    const figures = Object.fromEntries(STATS.map(([stat, p]) => [stat, late(p === 100 ? h.max : h.percentile(p))])) as Record<
      (typeof STATS)[number][0],
      number
    >;
    h.reset();
    return figures;
  }

  /** Stops sampling. */
  stop(): void {
    this.#histogram.disable();
  }

  #observe(result: ObservableResult): void {
    const figures = this.take();
    if (!figures) return;
    for (const [stat] of STATS) result.observe(figures[stat], { ...this.#attributes, stat });
  }
}
