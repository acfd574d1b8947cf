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
