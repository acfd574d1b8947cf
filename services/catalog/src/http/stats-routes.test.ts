import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

describe('admin API: GET /stats/overview', () => {
  it('answers zeros before any traffic, for the hour by default and for the day', async () => {
    for (const query of ['', '?window=24h']) {
      const res = await api.call('GET', `/stats/overview${query}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        window: query === '' ? '1h' : '24h',
        hits: 0,
        misses: 0,
        hit_ratio: 0,
        bytes_served_from_cache: 0,
        bytes_fetched_upstream: 0,
        top_images: [],
        upstream_errors: [],
        series: { interval_seconds: query === '' ? 60 : 900 },
      });
      const points = res.json().series.points as Array<{ start: string; hits: number; hit_ratio: number | null }>;
      expect(points).toHaveLength(query === '' ? 60 : 96);
      expect(points.every((p) => p.hits === 0 && p.hit_ratio === null)).toBe(true);
      expect(Date.parse(points[1]?.start ?? '') - Date.parse(points[0]?.start ?? '')).toBe(query === '' ? 60_000 : 900_000);
    }
  });

  it('answers the traffic over time: a miss and a hit in the current interval, the same bytes as the totals', async () => {
    const at = new Date();
    const digest = `sha256:${'a'.repeat(64)}`;
    api.stats.stored({ upstreamId: '1', relativePath: `library/alpine/blobs/${digest}`, digest, size: 3000, at });
    api.stats.served({ relativePath: `library/alpine/blobs/${digest}`, count: 1, size: 3000, at });
    for (const window of ['1h', '24h']) {
      const body = (await api.call('GET', `/stats/overview?window=${window}`)).json();
      expect(body).toMatchObject({ hits: 1, misses: 1, hit_ratio: 0.5, bytes_served_from_cache: 3000, bytes_fetched_upstream: 3000 });
      const points = body.series.points as Array<{ start: string; hits: number; misses: number }>;
      const busy = points.flatMap((p, i) => (p.hits + p.misses === 0 ? [] : [{ i, ...p }]));
      expect(busy).toHaveLength(1);
      expect(busy[0]).toMatchObject({ hits: 1, misses: 1, hit_ratio: 0.5, bytes_served_from_cache: 3000, bytes_fetched_upstream: 3000 });
      // The current interval, or the one before it when the minute turned between the record and the request.
      expect(busy[0]?.i).toBeGreaterThanOrEqual(points.length - 2);
      expect(Date.parse(busy[0]?.start ?? '')).toBeLessThanOrEqual(at.getTime());
    }
  });

  it('answers 400 VALIDATION_FAILED for a window it does not keep', async () => {
    const res = await api.call('GET', '/stats/overview?window=7d');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
  });
});
