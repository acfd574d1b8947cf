import { type ReactNode, useEffect, useId, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line or set of bars: its name in the legend, its colour (3:1 or more against white), a value per interval or null for none. */
export interface TimeChartSeries {
  label: string;
  color: string;
  values: ReadonlyArray<number | null>;
}

/** How the value axis reads: its labels, its fixed range if any, the steps its ticks may take. */
export interface TimeChartAxis {
  format: (value: number) => string;
  /** A fixed range (the hit ratio's 0..1); else from 0 to a little above the largest value. */
  range?: [number, number];
  /** Tick steps to choose from, smallest first (whole counts, powers of two for bytes). */
  steps: number[];
}

export interface TimeChartProps {
  title: string;
  /** Interval starts, Unix seconds, oldest first; every series has one value per start. */
  starts: readonly number[];
  intervalSeconds: number;
  series: readonly TimeChartSeries[];
  /** Lines with points (a ratio, with gaps where there is none) or side-by-side bars (per-interval totals). */
  kind: 'lines' | 'bars';
  axis: TimeChartAxis;
  /** The chart in words: its text alternative, shown under it and read as its description. */
  summary: ReactNode;
}

const HEIGHT = 200;
/** Before the first layout (a hidden tab), a width that still draws. */
const FALLBACK_WIDTH = 320;
/** A grid line light enough not to read as data (the axis text is the console's muted colour). */
const GRID = '#e3e5e9';
const AXIS_TEXT = '#555';

/**
 * A time series drawn on a canvas by uPlot, bundled with the console (no CDN):
 * uPlot sets element styles through the CSSOM, which the console's
 * `style-src 'self'` allows, and injects no stylesheet or script. The canvas
 * is hidden from assistive technology: the figure is an image named by its
 * title and described by `summary`, and the page gives the numbers as a table.
 */
export function TimeChart({ title, starts, intervalSeconds, series, kind, axis, summary }: TimeChartProps) {
  const titleId = useId();
  const summaryId = useId();
  const plotRef = useRef<HTMLDivElement>(null);

  // The chart is built once per shape (interval, series, kind, axis) and
  // given new data in place, so a refresh never swaps its canvas: no flicker,
  // and nothing holding the canvas sees it detached.
  const data = useMemo(() => chartData(starts, intervalSeconds, series), [starts, intervalSeconds, series]);
  const latest = useRef({ data, series });
  latest.current = { data, series };
  const chartRef = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label} ${s.color}`).join('\n');

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when the series' names or colours change (shape), not their values
  useEffect(() => {
    const el = plotRef.current;
    if (el === null) return undefined;
    const width = () => el.clientWidth || FALLBACK_WIDTH;
    const chart = new uPlot(chartOptions(intervalSeconds, latest.current.series, kind, axis, width()), latest.current.data, el);
    chart.root.setAttribute('aria-hidden', 'true');
    chartRef.current = chart;
    let drawnWidth = width();
    const resize = new ResizeObserver(() => {
      if (width() === drawnWidth) return;
      drawnWidth = width();
      chart.setSize({ width: drawnWidth, height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chartRef.current = null;
      chart.destroy();
    };
  }, [intervalSeconds, shape, kind, axis]);

  useEffect(() => {
    chartRef.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart">
      <figcaption id={titleId}>{title}</figcaption>
      <div className="chart-plot" role="img" aria-labelledby={titleId} aria-describedby={summaryId} ref={plotRef} />
      <p className="chart-summary" id={summaryId}>
        {summary}
      </p>
    </figure>
  );
}

/** The x range: the whole window from the first interval's start to the last one's end (x values are interval middles). */
function windowOf(middles: ArrayLike<number>, intervalSeconds: number): [number, number] {
  const half = intervalSeconds / 2;
  return [(middles[0] ?? half) - half, (middles[middles.length - 1] ?? half) + half];
}

/** uPlot's columns: x at each interval's middle, so bars sit inside their interval. */
function chartData(starts: readonly number[], intervalSeconds: number, series: readonly TimeChartSeries[]): uPlot.AlignedData {
  return [starts.map((s) => s + intervalSeconds / 2), ...series.map((s) => [...s.values])];
}

function chartOptions(
  intervalSeconds: number,
  series: readonly TimeChartSeries[],
  kind: TimeChartProps['kind'],
  axis: TimeChartAxis,
  width: number,
): uPlot.Options {
  // Two bar series side by side, each taking 40 % of its interval, at most 24 px wide.
  const bars = (i: number) =>
    uPlot.paths.bars?.({ size: [series.length > 1 ? 0.4 : 0.7, 24], align: series.length > 1 ? (i === 0 ? -1 : 1) : 0 });
  return {
    width,
    height: HEIGHT,
    // The whole window, even where no interval had traffic.
    scales: {
      x: { time: true, range: (u) => windowOf(u.data[0], intervalSeconds) },
      y: { range: axis.range ?? ((_u, _min, max) => [0, max > 0 ? max * 1.15 : 1]) },
    },
    series: [
      {},
      ...series.map(
        (s, i): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(kind === 'bars'
            ? { fill: s.color, paths: bars(i), points: { show: false } }
            : { spanGaps: false, points: { show: true, size: 6, fill: s.color } }),
        }),
      ),
    ],
    axes: [
      { stroke: AXIS_TEXT, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } },
      {
        stroke: AXIS_TEXT,
        grid: { stroke: GRID, width: 1 },
        ticks: { stroke: GRID, width: 1 },
        incrs: axis.steps,
        // Room for `512.0 KiB`; the same in every chart, so their plots line up.
        size: 76,
        values: (_u, splits) => splits.map((v) => axis.format(v)),
      },
    ],
    // Read-only: no drag-to-zoom, so the chart always shows the chosen window.
    cursor: { drag: { x: false, y: false } },
    // A key of the series, not a read-out under the cursor: the numbers are in the page's table, for mouse and keyboard alike.
    legend: { show: true, live: false },
  };
}
