import { hashToken } from '@vreg/secrets';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('admin API: access tokens', () => {
  it('creates a token, shows the secret once with no-store, and never again', async () => {
    const registry = (await api.call('POST', '/registries', { name: 'one' })).json();
    const res = await api.call('POST', '/access_tokens', {
      name: 'ci',
      scopes: ['read_virtual_registry'],
      registry_ids: [Number(registry.id)],
      expires_at: '2099-01-01T00:00:00Z',
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      id: '1',
      name: 'ci',
      token: expect.stringMatching(/^vregat_/),
      token_prefix: body.token.slice(0, 11),
      scopes: ['read_virtual_registry'],
      registry_ids: [registry.id],
      expires_at: '2099-01-01T00:00:00.000Z',
      revoked: false,
      active: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const listed = await api.call('GET', '/access_tokens');
    const one = await api.call('GET', `/access_tokens/${body.id}`);
    for (const text of [listed.body, one.body]) {
      expect(text).not.toContain(body.token);
      expect(text).not.toContain(hashToken(body.token));
    }
    expect(one.json()).toEqual({ ...body, token: undefined });
    expect(listed.headers['x-total']).toBe('1');
  });

  it('revokes a token with DELETE, keeps it listed as revoked, and answers 404 for an unknown one', async () => {
    const created = (await api.call('POST', '/access_tokens', { name: 'ci', scopes: ['admin'] })).json();
    expect((await api.call('DELETE', `/access_tokens/${created.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', `/access_tokens/${created.id}`)).json()).toMatchObject({
      revoked: true,
      active: false,
      revoked_at: expect.any(String),
    });
    expect((await api.call('DELETE', `/access_tokens/${created.id}`)).statusCode).toBe(204);
    expect((await api.call('DELETE', '/access_tokens/999')).statusCode).toBe(404);
  });

  it.each([
    ['no scope', { name: 'x', scopes: [] }],
    ['an unknown scope', { name: 'x', scopes: ['write_everything'] }],
    ['an expiry in the past', { name: 'x', scopes: ['admin'], expires_at: '2001-01-01T00:00:00Z' }],
    ['an expiry that is not a time', { name: 'x', scopes: ['admin'], expires_at: 'tomorrow' }],
    ['a registry that does not exist', { name: 'x', scopes: ['read_virtual_registry'], registry_ids: ['42'] }],
    ['an empty registry list', { name: 'x', scopes: ['read_virtual_registry'], registry_ids: [] }],
    ['a token of its own choosing', { name: 'x', scopes: ['admin'], token: 'vregat_mine' }],
  ])('answers 400 VALIDATION_FAILED for %s', async (_what, body) => {
    const res = await api.call('POST', '/access_tokens', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
  });

  it('admits an access token with the admin scope to the whole admin API', async () => {
    const admin = (await api.call('POST', '/access_tokens', { name: 'ops', scopes: ['admin'] })).json();
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/registries',
      headers: bearer(admin.token),
      payload: { name: 'by-token' },
    });
    expect(res.statusCode).toBe(201);
    const made = await api.server.inject({
      method: 'POST',
      url: '/api/v1/access_tokens',
      headers: bearer(admin.token),
      payload: { name: 'pull', scopes: ['read_virtual_registry'] },
    });
    expect(made.statusCode).toBe(201);
  });

  it('answers 403 DENIED to a write by a token without the admin scope, and 401 to a revoked or expired one', async () => {
    const pull = (await api.call('POST', '/access_tokens', { name: 'pull', scopes: ['read_virtual_registry'] })).json();
    const denied = await api.server.inject({
      method: 'POST',
      url: '/api/v1/registries',
      headers: bearer(pull.token),
      payload: { name: 'nope' },
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0].code).toBe('DENIED');

    const admin = (await api.call('POST', '/access_tokens', { name: 'ops', scopes: ['admin'] })).json();
    await api.call('DELETE', `/access_tokens/${admin.id}`);
    const revoked = await api.server.inject({ method: 'GET', url: '/api/v1/registries', headers: bearer(admin.token) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().errors[0].code).toBe('UNAUTHORIZED');

    // The clock is moved past the expiry, not waited for: a busy machine could spend a short lifetime before the first use.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const expiresAt = Date.now() + 60_000;
      const soon = (
        await api.call('POST', '/access_tokens', { name: 'soon', scopes: ['admin'], expires_at: new Date(expiresAt).toISOString() })
      ).json();
      expect((await api.server.inject({ method: 'GET', url: '/api/v1/registries', headers: bearer(soon.token) })).statusCode).toBe(200);
      vi.setSystemTime(expiresAt + 1);
      expect((await api.server.inject({ method: 'GET', url: '/api/v1/registries', headers: bearer(soon.token) })).statusCode).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('admin API: registry visibility', () => {
  it('makes registries private by default, public on request, and changes it with PATCH', async () => {
    expect((await api.call('POST', '/registries', { name: 'closed' })).json().visibility).toBe('private');
    const open = (await api.call('POST', '/registries', { name: 'open', visibility: 'public' })).json();
    expect(open.visibility).toBe('public');
    expect((await api.call('PATCH', `/registries/${open.id}`, { visibility: 'private' })).json().visibility).toBe('private');
    expect((await api.call('POST', '/registries', { name: 'odd', visibility: 'internal' })).statusCode).toBe(400);
  });
});
