import { useMemo } from 'react';
import type { Overview } from '../api.ts';
import { TimeChart, type TimeChartAxis, type TimeChartSeries } from '../components/time-chart.tsx';
import { formatBytes, formatPercent } from '../format.ts';
import { busyPoints, bytesSummary, type FormatWhen, hitRatioSummary, intervalName, requestsSummary } from '../overview-series.ts';

/** Series colours: 3:1 or more against white, and told apart without hue too (blue beside orange, bars left and right). */
const CACHE = '#0b5cad';
const UPSTREAM = '#b35900';
const RATIO = '#1b6e20';

const RATIO_AXIS: TimeChartAxis = { format: (v) => `${Math.round(v * 100)} %`, range: [0, 1], steps: [0.1, 0.25, 0.5] };
/** Whole requests: 1, 2, 5, 10, 20, 50, ... */
const COUNT_AXIS: TimeChartAxis = {
  format: (v) => String(v),
  steps: Array.from({ length: 30 }, (_, i) => ([1, 2, 5][i % 3] as number) * 10 ** Math.floor(i / 3)),
};
/** Bytes on powers of two, so the ticks read 512 KiB, 1.0 MiB, ... */
const BYTES_AXIS: TimeChartAxis = { format: formatBytes, steps: Array.from({ length: 51 }, (_, i) => 2 ** i) };

const WINDOW_NAMES: Record<string, string> = { '1h': 'the last hour', '24h': 'the last day' };

/** Local time of an interval's start: the clock for one-minute intervals, with the weekday across a day. */
function whenFormatter(intervalSeconds: number): FormatWhen {
  const format = new Intl.DateTimeFormat(
    undefined,
    intervalSeconds < 900 ? { hour: '2-digit', minute: '2-digit' } : { weekday: 'short', hour: '2-digit', minute: '2-digit' },
  );
  return (start) => format.format(new Date(start));
}

/**
 * The overview's traffic over the window as three charts (hit ratio, hits
 * and misses, bytes from the cache and from upstreams), each described in
 * words, and the same numbers as a table behind a disclosure for keyboard
 * and screen-reader users and anyone who wants the exact figures.
 */
export function TrafficCharts({ overview }: { overview: Overview }) {
  const { points, interval_seconds: intervalSeconds } = overview.series;
  const charts = useMemo(() => {
    const line = (label: string, color: string, pick: (p: (typeof points)[number]) => number | null): TimeChartSeries => ({
      label,
      color,
      values: points.map(pick),
    });
    return {
      starts: points.map((p) => Date.parse(p.start) / 1000),
      ratio: [line('Hit ratio', RATIO, (p) => p.hit_ratio)],
      requests: [line('Hits', CACHE, (p) => p.hits), line('Misses', UPSTREAM, (p) => p.misses)],
      bytes: [
        line('From cache', CACHE, (p) => p.bytes_served_from_cache),
        line('From upstream', UPSTREAM, (p) => p.bytes_fetched_upstream),
      ],
    };
  }, [points]);
  const formatWhen = useMemo(() => whenFormatter(intervalSeconds), [intervalSeconds]);
  const windowName = WINDOW_NAMES[overview.window] ?? overview.window;
  const view = { windowName, intervalSeconds, points, formatWhen };
  const busy = busyPoints(points);
  const interval = intervalName(intervalSeconds);

  return (
    <section aria-labelledby="over-time">
      <h2 id="over-time">Over time</h2>
      <div className="charts">
        <TimeChart
          title="Hit ratio"
          starts={charts.starts}
          intervalSeconds={intervalSeconds}
          series={charts.ratio}
          kind="lines"
          axis={RATIO_AXIS}
          summary={hitRatioSummary(view)}
        />
        <TimeChart
          title="Requests: hits and misses"
          starts={charts.starts}
          intervalSeconds={intervalSeconds}
          series={charts.requests}
          kind="bars"
          axis={COUNT_AXIS}
          summary={requestsSummary(view)}
        />
        <TimeChart
          title="Bytes from the cache and from upstreams"
          starts={charts.starts}
          intervalSeconds={intervalSeconds}
          series={charts.bytes}
          kind="bars"
          axis={BYTES_AXIS}
          summary={bytesSummary(view)}
        />
      </div>
      <details className="chart-data">
        <summary>Chart data as a table</summary>
        {busy.length === 0 ? (
          <p>No pulls in {windowName}.</p>
        ) : (
          <table>
            <caption>
              Traffic per {interval} interval in {windowName} (intervals without pulls left out)
            </caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">Hits</th>
                <th scope="col">Misses</th>
                <th scope="col">Hit ratio</th>
                <th scope="col">Served from cache</th>
                <th scope="col">Fetched upstream</th>
              </tr>
            </thead>
            <tbody>
              {busy.map((p) => (
                <tr key={p.start}>
                  <th scope="row">
                    <time dateTime={p.start}>{formatWhen(p.start)}</time>
                  </th>
                  <td>{p.hits}</td>
                  <td>{p.misses}</td>
                  <td>{p.hit_ratio === null ? '—' : formatPercent(p.hit_ratio)}</td>
                  <td>{formatBytes(p.bytes_served_from_cache)}</td>
                  <td>{formatBytes(p.bytes_fetched_upstream)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </details>
    </section>
  );
}
