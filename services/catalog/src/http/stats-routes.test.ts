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
      });
    }
  });

  it('answers 400 VALIDATION_FAILED for a window it does not keep', async () => {
    const res = await api.call('GET', '/stats/overview?window=7d');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
  });
});
