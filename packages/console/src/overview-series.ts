import type { OverviewPoint } from './api.ts';
import { formatBytes, formatPercent } from './format.ts';

/** How the summaries name an interval's start (local time for people; fixed in tests). */
export type FormatWhen = (start: string) => string;

/** What the summaries need of a series and its window. */
export interface SeriesView {
  /** `the last hour`, `the last day`. */
  windowName: string;
  intervalSeconds: number;
  points: readonly OverviewPoint[];
  formatWhen: FormatWhen;
}

/** `one-minute`, `15-minute`. */
export function intervalName(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60;
  return minutes === 1 ? 'one-minute' : `${minutes}-minute`;
}

/** The intervals that had pulls, oldest first: the rows of the charts' data table. */
export function busyPoints(points: readonly OverviewPoint[]): OverviewPoint[] {
  return points.filter((p) => p.hits + p.misses > 0);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function sum(points: readonly OverviewPoint[], pick: (p: OverviewPoint) => number): number {
  return points.reduce((n, p) => n + pick(p), 0);
}

/** The first point with the most of `pick`. */
function peak(points: readonly OverviewPoint[], pick: (p: OverviewPoint) => number): OverviewPoint | undefined {
  return points.reduce<OverviewPoint | undefined>((best, p) => (best === undefined || pick(p) > pick(best) ? p : best), undefined);
}

/** The hit-ratio chart in words: the window's ratio and its range over the intervals with pulls. */
export function hitRatioSummary(view: SeriesView): string {
  const busy = busyPoints(view.points);
  if (busy.length === 0) return `No pulls in ${view.windowName}, so no hit ratio.`;
  const hits = sum(busy, (p) => p.hits);
  const misses = sum(busy, (p) => p.misses);
  const ratio = (p: OverviewPoint) => p.hit_ratio ?? 0;
  const low = busy.reduce((a, b) => (ratio(b) < ratio(a) ? b : a));
  const high = peak(busy, ratio) as OverviewPoint;
  const range =
    busy.length === 1
      ? `all in the ${intervalName(view.intervalSeconds)} interval at ${view.formatWhen(high.start)}`
      : `from ${formatPercent(ratio(low))} at ${view.formatWhen(low.start)} to ${formatPercent(ratio(high))} at ${view.formatWhen(high.start)}`;
  return (
    `Hit ratio ${formatPercent(hits / (hits + misses))} in ${view.windowName} (${plural(hits, 'hit', 'hits')}, ` +
    `${plural(misses, 'miss', 'misses')}); ${busy.length} of ${view.points.length} ${intervalName(view.intervalSeconds)} intervals had pulls, ${range}.`
  );
}

/** The requests chart in words: hits and misses in the window, and the busiest interval. */
export function requestsSummary(view: SeriesView): string {
  const busy = busyPoints(view.points);
  if (busy.length === 0) return `No pulls in ${view.windowName}.`;
  const top = peak(busy, (p) => p.hits + p.misses) as OverviewPoint;
  return (
    `${plural(
      sum(busy, (p) => p.hits),
      'hit',
      'hits',
    )} and ${plural(
      sum(busy, (p) => p.misses),
      'miss',
      'misses',
    )} in ${view.windowName}; ` +
    `the busiest ${intervalName(view.intervalSeconds)} interval, at ${view.formatWhen(top.start)}, had ` +
    `${plural(top.hits, 'hit', 'hits')} and ${plural(top.misses, 'miss', 'misses')}.`
  );
}

/** The bytes chart in words: bytes from the cache and from upstreams in the window, and the interval that moved the most. */
export function bytesSummary(view: SeriesView): string {
  const busy = busyPoints(view.points);
  if (busy.length === 0) return `No bytes served or fetched in ${view.windowName}.`;
  const top = peak(busy, (p) => p.bytes_served_from_cache + p.bytes_fetched_upstream) as OverviewPoint;
  return (
    `${formatBytes(sum(busy, (p) => p.bytes_served_from_cache))} served from the cache and ` +
    `${formatBytes(sum(busy, (p) => p.bytes_fetched_upstream))} fetched from upstreams in ${view.windowName}; ` +
    `the most in a ${intervalName(view.intervalSeconds)} interval, at ${view.formatWhen(top.start)}: ` +
    `${formatBytes(top.bytes_served_from_cache)} from the cache, ${formatBytes(top.bytes_fetched_upstream)} from upstreams.`
  );
}
