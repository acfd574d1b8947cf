import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
let mine: string;
let other: string;
beforeEach(async () => {
  api = await startAdminApiHarness();
  mine = (await api.call('POST', '/registries', { name: 'mine' })).json().id;
  other = (await api.call('POST', '/registries', { name: 'other' })).json().id;
});
afterEach(async () => {
  await api.close();
});

const as = (token: string, method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, payload?: object) =>
  api.server.inject({
    method,
    url: `/api/v1${path}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });

async function token(body: Record<string, unknown>, by?: string): Promise<{ id: string; token: string }> {
  const res = by === undefined ? await api.call('POST', '/access_tokens', body) : await as(by, 'POST', '/access_tokens', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const denied = (res: { statusCode: number; json(): { errors: Array<{ code: string; message: string }> } }) => {
  expect(res.statusCode).toBe(403);
  expect(res.json().errors[0]?.code).toBe('DENIED');
  return res.json().errors[0]?.message ?? '';
};

describe('admin API: an admin token restricted to registries', () => {
  it('administers its registry: changes it, its upstreams, cache, cleanup policy and jobs', async () => {
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine] });
    expect((await as(team.token, 'PATCH', `/registries/${mine}`, { description: 'ours', visibility: 'public' })).statusCode).toBe(200);
    const upstream = await as(team.token, 'POST', `/registries/${mine}/upstreams`, { name: 'u', url: 'https://a.example.com' });
    expect(upstream.statusCode).toBe(201);
    expect((await as(team.token, 'PATCH', `/upstreams/${upstream.json().id}`, { cache_validity_hours: 2 })).statusCode).toBe(200);
    const purge = await as(team.token, 'DELETE', `/registries/${mine}/cache`);
    expect(purge.statusCode).toBe(202);
    expect((await as(team.token, 'GET', `/jobs/${purge.json().id}`)).statusCode).toBe(200);
    const policy = { enabled: true, keep_n_days_after_download: 30, cadence: 7 };
    expect((await as(team.token, 'PUT', `/registries/${mine}/cleanup_policy`, policy)).statusCode).toBe(200);
    expect((await as(team.token, 'GET', `/registries/${mine}/usage`)).statusCode).toBe(200);
    expect((await as(team.token, 'DELETE', `/upstreams/${upstream.json().id}`)).statusCode).toBe(204);
  });

  it('lists only its registries, jobs and tokens, counted in the query', async () => {
    const third = (await api.call('POST', '/registries', { name: 'third' })).json().id;
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine, third] });
    await api.call('DELETE', `/registries/${other}/cache`);
    await api.call('POST', '/gc', { dry_run: true });
    const ours = (await api.call('DELETE', `/registries/${mine}/cache`)).json().id;
    await token({ name: 'root', scopes: ['admin'] });
    await token({ name: 'wide', scopes: ['read_virtual_registry'], registry_ids: [mine, other] });
    const narrow = await token({ name: 'narrow', scopes: ['read_virtual_registry'], registry_ids: [third] });

    const registries = await as(team.token, 'GET', '/registries?per_page=1');
    expect(registries.json().map((r: { id: string }) => r.id)).toEqual([mine]);
    expect(registries.headers['x-total']).toBe('2');
    expect(registries.headers['x-next-page']).toBe('2');
    expect((await as(team.token, 'GET', '/registries?page=2&per_page=1')).json().map((r: { id: string }) => r.id)).toEqual([third]);
    const jobs = await as(team.token, 'GET', '/jobs');
    expect(jobs.json().map((j: { id: string }) => j.id)).toEqual([ours]);
    expect(jobs.headers['x-total']).toBe('1');
    expect((await as(team.token, 'GET', `/jobs?registry_id=${other}`)).json()).toEqual([]);
    const tokens = await as(team.token, 'GET', '/access_tokens');
    expect(tokens.json().map((t: { name: string }) => t.name)).toEqual(['team', 'narrow']);
    expect(tokens.headers['x-total']).toBe('2');
    expect((await as(team.token, 'DELETE', `/access_tokens/${narrow.id}`)).statusCode).toBe(204);
  });

  it('creates tokens only within its registries, scopes and expiry', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine], expires_at: expiresAt });
    expect(denied(await as(team.token, 'POST', '/access_tokens', { name: 'root', scopes: ['admin'], expires_at: expiresAt }))).toContain(
      'must be restricted too',
    );
    expect(
      denied(
        await as(team.token, 'POST', '/access_tokens', {
          name: 'x',
          scopes: ['read_virtual_registry'],
          registry_ids: [mine, other],
          expires_at: expiresAt,
        }),
      ),
    ).toContain(`cannot grant registries ${other}`);
    expect(denied(await as(team.token, 'POST', '/access_tokens', { name: 'forever', scopes: ['admin'], registry_ids: [mine] }))).toContain(
      'must expire too',
    );
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    expect(
      denied(await as(team.token, 'POST', '/access_tokens', { name: 'later', scopes: ['admin'], registry_ids: [mine], expires_at: later })),
    ).toContain('cannot expire later');
    const pull = await token({ name: 'ci', scopes: ['read_virtual_registry'], registry_ids: [mine], expires_at: expiresAt }, team.token);
    expect((await api.call('GET', `/access_tokens/${pull.id}`)).json()).toMatchObject({ registry_ids: [mine], expires_at: expiresAt });
  });

  it('may not change its capacity limits: the quota and an upstream’s largest blob', async () => {
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine] });
    expect(denied(await as(team.token, 'PATCH', `/registries/${mine}`, { max_stored_bytes: 1_000_000 }))).toContain('max_stored_bytes');
    expect(denied(await as(team.token, 'PATCH', `/registries/${mine}`, { max_stored_bytes: null }))).toContain('capacity limit');
    const body = { name: 'u', url: 'https://a.example.com', max_blob_size_bytes: 1 << 30 };
    expect(denied(await as(team.token, 'POST', `/registries/${mine}/upstreams`, body))).toContain('max_blob_size_bytes');
    const upstream = (await api.call('POST', `/registries/${mine}/upstreams`, body)).json();
    expect(denied(await as(team.token, 'PATCH', `/upstreams/${upstream.id}`, { max_blob_size_bytes: null }))).toContain('capacity');
    expect((await api.call('GET', `/registries/${mine}`)).json().max_stored_bytes).toBeNull();
  });

  it('reads its registries’ mirror hosts but sets none: where every node’s pulls go is not its to decide', async () => {
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine] });
    expect((await api.call('PUT', `/registries/${mine}/mirror_hosts`, { hosts: ['ghcr.io'] })).statusCode).toBe(200);
    expect((await api.call('PUT', `/registries/${other}/mirror_hosts`, { hosts: ['docker.io'] })).statusCode).toBe(200);
    expect((await as(team.token, 'GET', `/registries/${mine}/mirror_hosts`)).json().hosts).toEqual(['ghcr.io']);
    expect(denied(await as(team.token, 'PUT', `/registries/${mine}/mirror_hosts`, { hosts: ['docker.io'] }))).toContain('every registry');
    expect((await as(team.token, 'GET', '/mirror_hosts')).json()).toEqual([{ host: 'ghcr.io', registry_id: mine }]);
    expect((await api.call('GET', '/mirror_hosts')).json()).toHaveLength(2);
  });

  it('tells the console its registries and expiry at GET /session', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const team = await token({ name: 'team', scopes: ['admin'], registry_ids: [mine], expires_at: expiresAt });
    expect((await as(team.token, 'GET', '/session')).json()).toEqual({
      access: 'admin',
      token_name: 'team',
      registry_ids: [mine],
      expires_at: expiresAt,
    });
  });
});
