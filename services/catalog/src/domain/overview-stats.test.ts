import { describe, expect, it } from 'vitest';
import { imageOfPath, OverviewStats } from './overview-stats.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('OverviewStats', () => {
  it('finds the image of a manifest or blob path', () => {
    expect(imageOfPath('library/alpine/manifests/3.20')).toBe('library/alpine');
    expect(imageOfPath(`team/app/api/blobs/${digest('a')}`)).toBe('team/app/api');
  });

  it('sums hits and misses into a hit ratio and bytes from cache and from upstreams', () => {
    let now = new Date('2026-01-01T12:00:00Z');
    const stats = new OverviewStats({ now: () => now });
    expect(stats.overview('1h')).toMatchObject({ hits: 0, misses: 0, hitRatio: 0 });
    stats.stored({ upstreamId: '1', relativePath: 'library/alpine/manifests/3.20', digest: digest('a'), size: 500, at: now });
    // The same manifest's digest path: one miss, not two.
    stats.stored({ upstreamId: '1', relativePath: `library/alpine/manifests/${digest('a')}`, digest: digest('a'), size: 500, at: now });
    stats.stored({ upstreamId: '1', relativePath: `library/alpine/blobs/${digest('b')}`, digest: digest('b'), size: 3000, at: now });
    stats.served({ relativePath: `library/alpine/blobs/${digest('b')}`, count: 6, size: 3000, at: now });
    now = new Date('2026-01-01T12:30:00Z');
    const hour = stats.overview('1h');
    expect(hour).toMatchObject({ hits: 6, misses: 2, hitRatio: 0.75, bytesServedFromCache: 18_000, bytesFetchedUpstream: 3500 });
    expect(hour.topImages).toEqual([{ image: 'library/alpine', downloads: 8 }]);
  });

  it('forgets which objects a minute counted once that minute is a few minutes old, keeping its counts', () => {
    let now = new Date('2026-01-01T12:00:00Z');
    const stats = new OverviewStats({ now: () => now });
    for (let i = 0; i < 1000; i++)
      stats.stored({
        upstreamId: '1',
        relativePath: `app/blobs/${i}`,
        digest: `sha256:${i.toString(16).padStart(64, '0')}`,
        size: 1,
        at: now,
      });
    expect(stats.storedKeysHeld).toBe(1000);
    now = new Date('2026-01-01T12:10:00Z');
    stats.stored({ upstreamId: '1', relativePath: `app/blobs/${digest('f')}`, digest: digest('f'), size: 1, at: now });
    expect(stats.storedKeysHeld).toBe(1);
    expect(stats.overview('1h')).toMatchObject({ misses: 1001, bytesFetchedUpstream: 1001 });
  });

  it('keeps an hour in the hour window and a day in the day window', () => {
    let now = new Date('2026-01-01T10:00:00Z');
    const stats = new OverviewStats({ now: () => now });
    stats.served({ relativePath: 'a/manifests/1', count: 2, size: 10, at: now });
    now = new Date('2026-01-01T11:30:00Z');
    stats.served({ relativePath: 'b/manifests/1', count: 1, size: 10, at: now });
    expect(stats.overview('1h').hits).toBe(1);
    expect(stats.overview('24h').hits).toBe(3);
    now = new Date('2026-01-02T10:30:00Z');
    expect(stats.overview('24h').hits).toBe(1);
  });

  describe('series', () => {
    const at = (iso: string) => new Date(iso);
    const traffic = (o: ReturnType<OverviewStats['overview']>) =>
      o.series.points.flatMap((p, i) =>
        p.hits + p.misses === 0 ? [] : [{ i, start: p.start.toISOString(), hits: p.hits, misses: p.misses }],
      );

    it('answers a fixed number of empty intervals, ending with the current minute, before any traffic', () => {
      const stats = new OverviewStats({ now: () => at('2026-01-01T12:00:30Z') });
      const hour = stats.overview('1h');
      expect(hour.series.bucketMinutes).toBe(1);
      expect(hour.series.points).toHaveLength(60);
      expect(hour.series.points[0]?.start.toISOString()).toBe('2026-01-01T11:01:00.000Z');
      expect(hour.series.points[59]?.start.toISOString()).toBe('2026-01-01T12:00:00.000Z');
      expect(
        hour.series.points.every((p) => p.hits === 0 && p.misses === 0 && p.hitRatio === undefined && p.bytesServedFromCache === 0),
      ).toBe(true);
      const day = stats.overview('24h');
      expect(day.series.bucketMinutes).toBe(15);
      expect(day.series.points).toHaveLength(96);
      expect(day.series.points[0]?.start.toISOString()).toBe('2025-12-31T12:01:00.000Z');
      expect(day.series.points[95]?.start.toISOString()).toBe('2026-01-01T11:46:00.000Z');
      // Consecutive, evenly spaced.
      expect(day.series.points.every((p, i) => p.start.getTime() === (day.series.points[0]?.start.getTime() ?? 0) + i * 15 * 60_000)).toBe(
        true,
      );
    });

    it('puts the first and the last minute of an interval in that interval', () => {
      let now = at('2026-01-01T11:46:00Z');
      const stats = new OverviewStats({ now: () => now });
      const hitAt = (iso: string, count: number) => {
        now = at(iso);
        stats.served({ relativePath: 'a/manifests/1', count, size: 10, at: now });
      };
      // Read at 12:15:xx, the day's intervals start at 12:16 the day before and every 15 minutes on:
      // the last two are 11:46..12:00 and 12:01..12:15.
      hitAt('2026-01-01T11:46:00Z', 1);
      hitAt('2026-01-01T12:00:59Z', 2);
      hitAt('2026-01-01T12:01:00Z', 4);
      now = at('2026-01-01T12:15:00Z');
      stats.stored({ upstreamId: '1', relativePath: 'a/manifests/1', digest: digest('a'), size: 40, at: now });
      now = at('2026-01-01T12:15:59Z');
      const day = stats.overview('24h');
      expect(traffic(day)).toEqual([
        { i: 94, start: '2026-01-01T11:46:00.000Z', hits: 3, misses: 0 },
        { i: 95, start: '2026-01-01T12:01:00.000Z', hits: 4, misses: 1 },
      ]);
      expect(day.series.points[94]).toMatchObject({ hitRatio: 1, bytesServedFromCache: 30, bytesFetchedUpstream: 0 });
      expect(day.series.points[95]).toMatchObject({ hitRatio: 0.8, bytesServedFromCache: 40, bytesFetchedUpstream: 40 });
      expect(traffic(stats.overview('1h'))).toEqual([
        { i: 30, start: '2026-01-01T11:46:00.000Z', hits: 1, misses: 0 },
        { i: 44, start: '2026-01-01T12:00:00.000Z', hits: 2, misses: 0 },
        { i: 45, start: '2026-01-01T12:01:00.000Z', hits: 4, misses: 0 },
        { i: 59, start: '2026-01-01T12:15:00.000Z', hits: 0, misses: 1 },
      ]);
    });

    it('adds up to the window totals, and leaves out what is older than the window', () => {
      let now = at('2026-01-01T08:00:00Z');
      const stats = new OverviewStats({ now: () => now });
      stats.served({ relativePath: 'old/manifests/1', count: 5, size: 100, at: now });
      now = at('2026-01-01T11:59:00Z');
      // Older than the day the catalog keeps: never counted.
      stats.served({ relativePath: 'ancient/manifests/1', count: 7, size: 100, at: at('2025-12-31T11:00:00Z') });
      for (let m = 0; m < 90; m += 7) {
        now = new Date(at('2026-01-01T11:00:00Z').getTime() + m * 60_000);
        stats.served({ relativePath: 'a/manifests/1', count: m, size: 3, at: now });
        stats.stored({ upstreamId: '1', relativePath: `a/blobs/${m}`, digest: digest(String(m % 10)), size: m + 1, at: now });
      }
      for (const window of ['1h', '24h'] as const) {
        const o = stats.overview(window);
        const sum = (pick: (p: (typeof o.series.points)[number]) => number) => o.series.points.reduce((n, p) => n + pick(p), 0);
        expect(sum((p) => p.hits)).toBe(o.hits);
        expect(sum((p) => p.misses)).toBe(o.misses);
        expect(sum((p) => p.bytesServedFromCache)).toBe(o.bytesServedFromCache);
        expect(sum((p) => p.bytesFetchedUpstream)).toBe(o.bytesFetchedUpstream);
      }
      // The hour (11:25..12:24) leaves out 08:00 and 11:00..11:21; the day has them.
      expect(stats.overview('1h').hits).toBe(28 + 35 + 42 + 49 + 56 + 63 + 70 + 77 + 84);
      expect(stats.overview('24h').hits).toBe(5 + (0 + 7 + 14 + 21) + stats.overview('1h').hits);
    });

    it('moves the traffic to older intervals as the clock moves on, until it leaves the window', () => {
      let now = at('2026-01-01T12:00:00Z');
      const stats = new OverviewStats({ now: () => now });
      stats.served({ relativePath: 'a/manifests/1', count: 1, size: 10, at: now });
      expect(traffic(stats.overview('1h')).map((p) => p.i)).toEqual([59]);
      now = at('2026-01-01T12:01:00Z');
      expect(traffic(stats.overview('1h')).map((p) => p.i)).toEqual([58]);
      now = at('2026-01-01T12:59:59Z');
      expect(traffic(stats.overview('1h')).map((p) => p.i)).toEqual([0]);
      now = at('2026-01-01T13:00:00Z');
      expect(traffic(stats.overview('1h'))).toEqual([]);
      expect(stats.overview('1h').hits).toBe(0);
      expect(traffic(stats.overview('24h')).map((p) => p.i)).toEqual([91]);
      now = at('2026-01-02T11:59:59Z');
      expect(traffic(stats.overview('24h')).map((p) => p.i)).toEqual([0]);
      now = at('2026-01-02T12:00:00Z');
      expect(traffic(stats.overview('24h'))).toEqual([]);
    });
  });

  it('counts upstream errors by upstream with the latest message', () => {
    const stats = new OverviewStats();
    stats.upstreamFailed({ upstream: 'registry.example:5000', message: 'connect ECONNREFUSED' });
    stats.upstreamFailed({ upstream: 'registry.example:5000', message: 'socket hang up' });
    stats.upstreamFailed({ upstream: 'other.example', message: 'timeout' });
    expect(stats.overview('1h').upstreamErrors.map(({ upstream, count, lastMessage }) => ({ upstream, count, lastMessage }))).toEqual([
      { upstream: 'registry.example:5000', count: 2, lastMessage: 'socket hang up' },
      { upstream: 'other.example', count: 1, lastMessage: 'timeout' },
    ]);
  });
});
