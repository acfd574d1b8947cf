import { describe, expect, it } from 'vitest';
import type { OverviewPoint } from './api.ts';
import { busyPoints, bytesSummary, hitRatioSummary, intervalName, requestsSummary, type SeriesView } from './overview-series.ts';

const point = (minute: number, hits: number, misses: number, bytes: [number, number] = [0, 0]): OverviewPoint => ({
  start: `2026-01-01T12:${String(minute).padStart(2, '0')}:00.000Z`,
  hits,
  misses,
  hit_ratio: hits + misses === 0 ? null : hits / (hits + misses),
  bytes_served_from_cache: bytes[0],
  bytes_fetched_upstream: bytes[1],
});

const view = (points: OverviewPoint[]): SeriesView => ({
  windowName: 'the last hour',
  intervalSeconds: 60,
  points,
  formatWhen: (start) => start.slice(11, 16),
});

const quiet = Array.from({ length: 60 }, (_, m) => point(m, 0, 0));

describe('overview series in words', () => {
  it('names the interval length', () => {
    expect(intervalName(60)).toBe('one-minute');
    expect(intervalName(900)).toBe('15-minute');
  });

  it('says there was no traffic rather than a 0 % ratio', () => {
    expect(busyPoints(quiet)).toEqual([]);
    expect(hitRatioSummary(view(quiet))).toBe('No pulls in the last hour, so no hit ratio.');
    expect(requestsSummary(view(quiet))).toBe('No pulls in the last hour.');
    expect(bytesSummary(view(quiet))).toBe('No bytes served or fetched in the last hour.');
  });

  it('describes a miss then a hit in one interval', () => {
    const points = quiet.map((p, m) => (m === 34 ? point(34, 1, 1, [2048, 2048]) : p));
    expect(busyPoints(points).map((p) => p.start)).toEqual(['2026-01-01T12:34:00.000Z']);
    expect(hitRatioSummary(view(points))).toBe(
      'Hit ratio 50.0 % in the last hour (1 hit, 1 miss); 1 of 60 one-minute intervals had pulls, all in the one-minute interval at 12:34.',
    );
    expect(requestsSummary(view(points))).toBe(
      '1 hit and 1 miss in the last hour; the busiest one-minute interval, at 12:34, had 1 hit and 1 miss.',
    );
    expect(bytesSummary(view(points))).toBe(
      '2.0 KiB served from the cache and 2.0 KiB fetched from upstreams in the last hour; the most in a one-minute interval, at 12:34: 2.0 KiB from the cache, 2.0 KiB from upstreams.',
    );
  });

  it('gives the range of the ratio and the busiest interval across intervals', () => {
    const points = quiet.map((p, m) =>
      m === 10 ? point(10, 0, 3, [0, 9000]) : m === 11 ? point(11, 3, 0, [9000, 0]) : m === 40 ? point(40, 4, 1) : p,
    );
    expect(hitRatioSummary(view(points))).toBe(
      'Hit ratio 63.6 % in the last hour (7 hits, 4 misses); 3 of 60 one-minute intervals had pulls, from 0.0 % at 12:10 to 100.0 % at 12:11.',
    );
    expect(requestsSummary(view(points))).toBe(
      '7 hits and 4 misses in the last hour; the busiest one-minute interval, at 12:40, had 4 hits and 1 miss.',
    );
  });
});
