import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

const as = (token: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: object) =>
  api.server.inject({
    method,
    url: `/api/v1${path}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });

async function readToken(registryIds?: string[]): Promise<string> {
  const res = await api.call('POST', '/access_tokens', {
    name: 'viewer',
    scopes: ['read_virtual_registry'],
    ...(registryIds === undefined ? {} : { registry_ids: registryIds }),
  });
  expect(res.statusCode).toBe(201);
  return res.json().token as string;
}

describe('admin API: read_virtual_registry tokens (read-only console sessions)', () => {
  it('may read registries and upstreams but every write is 403 DENIED', async () => {
    const registry = (await api.call('POST', '/registries', { name: 'r' })).json();
    const upstream = (
      await api.call('POST', `/registries/${registry.id}/upstreams`, { name: 'u', url: 'https://registry.example.com' })
    ).json();
    const token = await readToken();
    expect((await as(token, 'GET', '/registries')).json().map((r: { id: string }) => r.id)).toEqual([registry.id]);
    expect((await as(token, 'GET', `/registries/${registry.id}/upstreams`)).statusCode).toBe(200);
    expect((await as(token, 'GET', `/upstreams/${upstream.id}/cache_entries`)).statusCode).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/registries', { name: 'x' }],
      ['PATCH', `/registries/${registry.id}`, { name: 'y' }],
      ['DELETE', `/registries/${registry.id}`, undefined],
      ['DELETE', `/upstreams/${upstream.id}`, undefined],
      ['POST', '/access_tokens', { name: 'escalate', scopes: ['admin'] }],
    ] as const) {
      const res = await as(token, method, path, body);
      expect(res.statusCode, `${method} ${path}`).toBe(403);
      expect(res.json().errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringContaining('read-only') });
    }
    expect((await api.call('GET', `/registries/${registry.id}`)).json().name).toBe('r');
  });

  it('may not list access tokens', async () => {
    const res = await as(await readToken(), 'GET', '/access_tokens');
    expect(res.statusCode).toBe(403);
    expect(res.json().errors[0].code).toBe('DENIED');
  });

  it('sees only its registries when restricted, and their upstreams', async () => {
    const mine = (await api.call('POST', '/registries', { name: 'mine' })).json();
    const other = (await api.call('POST', '/registries', { name: 'other' })).json();
    const myUpstream = (await api.call('POST', `/registries/${mine.id}/upstreams`, { name: 'u', url: 'https://a.example.com' })).json();
    const otherUpstream = (await api.call('POST', `/registries/${other.id}/upstreams`, { name: 'u', url: 'https://b.example.com' })).json();
    const token = await readToken([mine.id]);
    expect((await as(token, 'GET', '/registries')).json().map((r: { id: string }) => r.id)).toEqual([mine.id]);
    expect((await as(token, 'GET', `/registries/${mine.id}`)).statusCode).toBe(200);
    expect((await as(token, 'GET', `/upstreams/${myUpstream.id}`)).statusCode).toBe(200);
    expect((await as(token, 'GET', `/registries/${other.id}`)).statusCode).toBe(403);
    expect((await as(token, 'GET', `/upstreams/${otherUpstream.id}`)).statusCode).toBe(403);
    expect((await as(token, 'GET', '/stats/overview')).statusCode).toBe(403);
  });

  it('tells the console what the token may do at GET /session', async () => {
    expect((await api.call('GET', '/session')).json()).toEqual({ access: 'admin' });
    const registry = (await api.call('POST', '/registries', { name: 'r' })).json();
    expect((await as(await readToken([registry.id]), 'GET', '/session')).json()).toEqual({
      access: 'read',
      token_name: 'viewer',
      registry_ids: [registry.id],
    });
    const admin = (await api.call('POST', '/access_tokens', { name: 'ops', scopes: ['admin'] })).json();
    expect((await as(admin.token, 'GET', '/session')).json()).toEqual({ access: 'admin', token_name: 'ops' });
    expect((await api.server.inject({ method: 'GET', url: '/api/v1/session' })).statusCode).toBe(401);
  });
});
