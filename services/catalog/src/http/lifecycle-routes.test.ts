import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheEntryIdOf } from '../domain/cache-entry-id.ts';
import { DAY_MS } from '../domain/cleanup-policy.ts';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

const DIGEST = (c: string): string => `sha256:${c.repeat(64)}`;

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

/** Registry 1 (upstreams 1 "hub" and 2 "mirror") and registry 2 (upstream 3), with entries of alpine, busybox and a shared digest. */
async function seed(): Promise<void> {
  await api.call('POST', '/registries', { name: 'r1' });
  await api.call('POST', '/registries', { name: 'r2' });
  await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://hub.example' });
  await api.call('POST', '/registries/1/upstreams', { name: 'mirror', url: 'https://mirror.example' });
  await api.call('POST', '/registries/2/upstreams', { name: 'other', url: 'https://other.example' });
  const put = (upstreamId: string, registryId: string, relativePath: string, size: number, digest: string) =>
    api.store.cacheEntries.upsert({
      upstreamId,
      registryId,
      relativePath,
      digest,
      contentType: 'application/octet-stream',
      size,
      upstreamCheckedAt: new Date('2025-01-01T00:00:00Z'),
    });
  await put('1', '1', 'library/alpine/manifests/3.20', 100, DIGEST('a'));
  await put('1', '1', `library/alpine/manifests/${DIGEST('a')}`, 100, DIGEST('a'));
  await put('1', '1', 'library/alpine/manifests/3.19', 110, DIGEST('b'));
  await put('1', '1', `library/alpine/blobs/${DIGEST('c')}`, 5000, DIGEST('c'));
  await put('1', '1', 'library/busybox/manifests/latest', 200, DIGEST('d'));
  await put('1', '1', `library/busybox/blobs/${DIGEST('c')}`, 5000, DIGEST('c'));
  await put('2', '1', 'library/alpine/manifests/3.20', 100, DIGEST('a'));
  await put('3', '2', 'library/alpine/manifests/3.20', 100, DIGEST('a'));
}

async function statusOf(): Promise<Record<string, string>> {
  const all = await api.store.cacheEntries.findAll({});
  return Object.fromEntries(all.map((e) => [`${e.upstreamId}:${e.relativePath}`, e.status]));
}

function pending(statuses: Record<string, string>): string[] {
  return Object.entries(statuses)
    .filter(([, s]) => s === 'pending_destruction')
    .map(([k]) => k)
    .sort();
}

describe('admin API: purge', () => {
  it('purges a whole registry: 202 with a queued job, then every live entry of it and nothing else is marked', async () => {
    await seed();
    const res = await api.call('DELETE', '/registries/1/cache');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ kind: 'purge', state: 'queued', registry_id: '1', params: { registry_id: '1' }, result: null });
    expect(await api.runJobs()).toBe(1);
    const statuses = await statusOf();
    expect(pending(statuses)).toHaveLength(7);
    expect(statuses['3:library/alpine/manifests/3.20']).toBe('default');
    const job = (await api.call('GET', `/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { entries_marked: 7, bytes_marked: 10_610 },
      progress: { objects_done: 7, objects_total: 7, bytes_done: 10_610, bytes_total: 10_610 },
    });
    expect(job.finished_at).not.toBeNull();
    // No longer served.
    expect(await api.store.cacheEntries.findFirst(['1', '2'], 'library/alpine/manifests/3.20')).toBeUndefined();
  });

  it('purges one upstream only', async () => {
    await seed();
    const res = await api.call('DELETE', '/upstreams/2/cache');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ registry_id: '1', params: { upstream_id: '2' } });
    await api.runJobs();
    expect(pending(await statusOf())).toEqual(['2:library/alpine/manifests/3.20']);
  });

  it('purges one entry by the id the entry lists show', async () => {
    await seed();
    const list = (await api.call('GET', '/registries/1/cache_entries?search=busybox/manifests')).json();
    expect(list).toHaveLength(1);
    expect(list[0].id).toBe(cacheEntryIdOf({ upstreamId: '1', relativePath: 'library/busybox/manifests/latest' }));
    const res = await api.call('DELETE', `/cache_entries/${list[0].id}`);
    expect(res.statusCode).toBe(202);
    expect(res.json().params).toEqual({ entry_id: list[0].id });
    await api.runJobs();
    expect(pending(await statusOf())).toEqual(['1:library/busybox/manifests/latest']);
    expect((await api.call('GET', `/jobs/${res.json().id}`)).json().result).toEqual({ entries_marked: 1, bytes_marked: 200 });
  });

  it('purges one image: its manifests by tag and digest and its blobs, in every upstream of the registry', async () => {
    await seed();
    const res = await api.call('DELETE', '/registries/1/cache?image=library/alpine');
    expect(res.statusCode).toBe(202);
    expect(res.json().params).toEqual({ registry_id: '1', image: 'library/alpine' });
    await api.runJobs();
    expect(pending(await statusOf())).toEqual([
      `1:library/alpine/blobs/${DIGEST('c')}`,
      '1:library/alpine/manifests/3.19',
      '1:library/alpine/manifests/3.20',
      `1:library/alpine/manifests/${DIGEST('a')}`,
      '2:library/alpine/manifests/3.20',
    ]);
  });

  it('purges one tag of an image, and only that tag entry', async () => {
    await seed();
    const res = await api.call('DELETE', '/registries/1/cache?image=library/alpine&tag=3.19');
    expect(res.statusCode).toBe(202);
    await api.runJobs();
    expect(pending(await statusOf())).toEqual(['1:library/alpine/manifests/3.19']);
  });

  it('answers 404 for an unknown registry, upstream or entry, and 400 for a bad image or a tag without image', async () => {
    await seed();
    expect((await api.call('DELETE', '/registries/9/cache')).statusCode).toBe(404);
    expect((await api.call('DELETE', '/upstreams/9/cache')).statusCode).toBe(404);
    expect((await api.call('DELETE', '/cache_entries/1-bm9wZQ')).statusCode).toBe(404);
    expect((await api.call('DELETE', '/cache_entries/garbage')).statusCode).toBe(404);
    for (const query of ['tag=3.20', 'image=UPPER/case', 'image=library/alpine&tag=bad:tag']) {
      const res = await api.call('DELETE', `/registries/1/cache?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    }
    expect((await api.store.jobs.list({}, { page: 1, perPage: 10 })).total).toBe(0);
  });
});

describe('admin API: registry cache entries', () => {
  it('lists across upstreams with search, sort and pagination, each entry with its id', async () => {
    await seed();
    const res = await api.call('GET', '/registries/1/cache_entries?search=alpine&sort=-size&per_page=2');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'x-total': '5', 'x-total-pages': '3' });
    const body = res.json();
    expect(body.map((e: { relative_path: string }) => e.relative_path)).toEqual([
      `library/alpine/blobs/${DIGEST('c')}`,
      'library/alpine/manifests/3.19',
    ]);
    expect(body[0]).toMatchObject({ id: expect.any(String), upstream_id: '1', registry_id: '1', size: 5000, status: 'default' });
    const bySize = (await api.call('GET', '/registries/1/cache_entries?sort=size&per_page=1')).json();
    expect(bySize[0].size).toBe(100);
  });

  it('answers 404 for an unknown registry and 400 for an unknown sort', async () => {
    expect((await api.call('GET', '/registries/5/cache_entries')).statusCode).toBe(404);
    await seed();
    expect((await api.call('GET', '/registries/1/cache_entries?sort=digest')).statusCode).toBe(400);
  });
});

describe('admin API: cleanup policy', () => {
  it('creates, reads, replaces and deletes a policy', async () => {
    await seed();
    expect((await api.call('GET', '/registries/1/cleanup_policy')).statusCode).toBe(404);
    const before = Date.now();
    const put = await api.call('PUT', '/registries/1/cleanup_policy', { enabled: true, keep_n_days_after_download: 30, cadence: 7 });
    expect(put.statusCode).toBe(200);
    const policy = put.json();
    expect(policy).toMatchObject({
      registry_id: '1',
      enabled: true,
      keep_n_days_after_download: 30,
      cadence: 7,
      last_run_at: null,
      last_run_deleted_entries_count: 0,
      last_run_deleted_size: 0,
      status: 'scheduled',
      failure_message: null,
    });
    const next = new Date(policy.next_run_at).getTime();
    expect(next).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(next).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS);
    expect((await api.call('GET', '/registries/1/cleanup_policy')).json()).toEqual(policy);
    // Same cadence, still enabled: the schedule stays.
    const replaced = (
      await api.call('PUT', '/registries/1/cleanup_policy', { enabled: true, keep_n_days_after_download: 60, cadence: 7 })
    ).json();
    expect(replaced).toMatchObject({ keep_n_days_after_download: 60, next_run_at: policy.next_run_at });
    expect((await api.call('DELETE', '/registries/1/cleanup_policy')).statusCode).toBe(204);
    expect((await api.call('GET', '/registries/1/cleanup_policy')).statusCode).toBe(404);
    expect((await api.call('DELETE', '/registries/1/cleanup_policy')).statusCode).toBe(404);
  });

  it('goes with its registry when the registry is deleted', async () => {
    await seed();
    for (const id of ['1', '2'])
      await api.call('PUT', `/registries/${id}/cleanup_policy`, { enabled: true, keep_n_days_after_download: 30, cadence: 7 });
    expect((await api.call('DELETE', '/registries/2')).statusCode).toBe(204);
    expect(await api.store.cleanupPolicies.get('2')).toBeUndefined();
    expect((await api.store.cleanupPolicies.get('1'))?.keepNDaysAfterDownload).toBe(30);
  });

  it('refuses keep_n_days 0 or 366, cadence 3, unknown fields and bad JSON with 400; unknown registry with 404', async () => {
    await seed();
    for (const body of [
      { enabled: true, keep_n_days_after_download: 0, cadence: 7 },
      { enabled: true, keep_n_days_after_download: 366, cadence: 7 },
      { enabled: true, keep_n_days_after_download: 30, cadence: 3 },
      { enabled: true, keep_n_days_after_download: 30, cadence: 7, extra: 1 },
      { keep_n_days_after_download: 30, cadence: 7 },
    ]) {
      const res = await api.call('PUT', '/registries/1/cleanup_policy', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    }
    const badJson = await api.server.inject({
      method: 'PUT',
      url: '/api/v1/registries/1/cleanup_policy',
      headers: { authorization: `Bearer ${'test-admin-token-0123456789'}`, 'content-type': 'application/json' },
      payload: '{"enabled": tru',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().errors[0].code).toBe('VALIDATION_FAILED');
    expect(
      (await api.call('PUT', '/registries/9/cleanup_policy', { enabled: true, keep_n_days_after_download: 30, cadence: 7 })).statusCode,
    ).toBe(404);
    expect((await api.call('POST', '/registries/9/cleanup_policy/run')).statusCode).toBe(404);
    expect((await api.call('GET', '/registries/9/cleanup_runs')).statusCode).toBe(404);
    expect((await api.call('POST', '/registries/1/cleanup_policy/run')).statusCode).toBe(404);
  });

  it('runs now: marks exactly the entries idle longer than the window, audits the run and updates the policy', async () => {
    await seed();
    const now = Date.now();
    const all = await api.store.cacheEntries.findAll({ registryId: '1' });
    // Downloaded 31 days ago: stale. Downloaded 29 days ago: kept. Never downloaded but created now: kept.
    await api.store.cacheEntries.recordDownloads('1', 'library/alpine/manifests/3.19', 1, new Date(now - 31 * DAY_MS));
    await api.store.cacheEntries.recordDownloads('1', 'library/busybox/manifests/latest', 1, new Date(now - 29 * DAY_MS));
    expect(all.length).toBe(7);
    await api.call('PUT', '/registries/1/cleanup_policy', { enabled: false, keep_n_days_after_download: 30, cadence: 1 });
    const res = await api.call('POST', '/registries/1/cleanup_policy/run');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      kind: 'cleanup',
      state: 'queued',
      registry_id: '1',
      params: { registry_id: '1', trigger: 'manual' },
    });
    await api.runJobs();
    expect(pending(await statusOf())).toEqual(['1:library/alpine/manifests/3.19']);
    const job = (await api.call('GET', `/jobs/${res.json().id}`)).json();
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { deleted_entries_count: 1, deleted_size: 110, keep_n_days_after_download: 30 },
    });
    const policy = (await api.call('GET', '/registries/1/cleanup_policy')).json();
    expect(policy).toMatchObject({
      status: 'scheduled',
      last_run_deleted_entries_count: 1,
      last_run_deleted_size: 110,
      failure_message: null,
    });
    expect(policy.last_run_at).not.toBeNull();
    const runs = await api.call('GET', '/registries/1/cleanup_runs');
    expect(runs.headers['x-total']).toBe('1');
    expect(runs.json()).toEqual([
      {
        id: expect.any(String),
        registry_id: '1',
        job_id: res.json().id,
        started_at: expect.any(String),
        finished_at: expect.any(String),
        keep_n_days_after_download: 30,
        deleted_entries_count: 1,
        deleted_size: 110,
        status: 'succeeded',
      },
    ]);
  });

  it('counts a never-downloaded entry by when it was cached', async () => {
    await seed();
    // Everything was cached just now; a 1-day window keeps all of it.
    await api.call('PUT', '/registries/2/cleanup_policy', { enabled: true, keep_n_days_after_download: 1, cadence: 1 });
    await api.call('POST', '/registries/2/cleanup_policy/run');
    await api.runJobs();
    expect(pending(await statusOf())).toEqual([]);
    expect((await api.call('GET', '/registries/2/cleanup_runs')).json()[0]).toMatchObject({
      deleted_entries_count: 0,
      status: 'succeeded',
    });
  });
});

describe('admin API: usage and quota', () => {
  it('sums live entries per upstream, counting a digest once per upstream', async () => {
    await seed();
    const res = await api.call('GET', '/registries/1/usage');
    expect(res.statusCode).toBe(200);
    // Upstream 1: digests a(100) b(110) c(5000) d(200) = 5410 over 6 entries; upstream 2: a(100), 1 entry.
    expect(res.json()).toEqual({
      registry_id: '1',
      stored_bytes: 5510,
      entries_count: 7,
      quota_bytes: null,
      upstreams: [
        { upstream_id: '1', name: 'hub', stored_bytes: 5410, entries_count: 6 },
        { upstream_id: '2', name: 'mirror', stored_bytes: 100, entries_count: 1 },
      ],
    });
    await api.call('DELETE', '/upstreams/2/cache');
    await api.runJobs();
    expect((await api.call('GET', '/registries/1/usage')).json()).toMatchObject({ stored_bytes: 5410, entries_count: 6 });
    expect((await api.call('GET', '/registries/7/usage')).statusCode).toBe(404);
  });

  it('sets, shows and removes max_stored_bytes through POST and PATCH /registries', async () => {
    const created = await api.call('POST', '/registries', { name: 'q', max_stored_bytes: 1024 });
    expect(created.statusCode).toBe(201);
    expect(created.json().max_stored_bytes).toBe(1024);
    expect((await api.call('GET', '/registries/1/usage')).json().quota_bytes).toBe(1024);
    expect((await api.call('PATCH', '/registries/1', { max_stored_bytes: 2048 })).json().max_stored_bytes).toBe(2048);
    expect((await api.call('PATCH', '/registries/1', { max_stored_bytes: null })).json().max_stored_bytes).toBeNull();
    for (const bad of [0, -1, 1.5, '10']) {
      expect((await api.call('PATCH', '/registries/1', { max_stored_bytes: bad })).statusCode, String(bad)).toBe(400);
    }
  });

  it('enforces a quota set through PATCH: least recently downloaded entries are marked until usage fits', async () => {
    await seed();
    const now = Date.now();
    // Upstream 1's big shared blob (5000, two paths) was downloaded long ago; the rest recently.
    for (const e of await api.store.cacheEntries.findAll({ registryId: '1' })) {
      const old = e.digest === DIGEST('c');
      await api.store.cacheEntries.recordDownloads(e.upstreamId, e.relativePath, 1, new Date(now - (old ? 10 : 1) * DAY_MS));
    }
    expect((await api.call('PATCH', '/registries/1', { max_stored_bytes: 1000 })).statusCode).toBe(200);
    await expect
      .poll(async () => pending(await statusOf()), { timeout: 2000 })
      .toEqual([`1:library/alpine/blobs/${DIGEST('c')}`, `1:library/busybox/blobs/${DIGEST('c')}`]);
    expect((await api.call('GET', '/registries/1/usage')).json()).toMatchObject({ stored_bytes: 510, quota_bytes: 1000 });
  });

  it('lists the lifecycle routes in the OpenAPI document', async () => {
    const doc = (await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/registries/{id}/cache',
        '/api/v1/upstreams/{id}/cache',
        '/api/v1/cache_entries/{id}',
        '/api/v1/registries/{id}/cache_entries',
        '/api/v1/registries/{id}/cleanup_policy',
        '/api/v1/registries/{id}/cleanup_policy/run',
        '/api/v1/registries/{id}/cleanup_runs',
        '/api/v1/registries/{id}/usage',
      ]),
    );
    expect(Object.keys(doc.paths['/api/v1/registries/{id}/cleanup_policy']).sort()).toEqual(['delete', 'get', 'put']);
  });
});
