import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

describe('admin API: registries', () => {
  it('creates a registry and answers 201 with its snake_case JSON', async () => {
    const res = await api.call('POST', '/registries', { name: 'containers', description: 'Docker Hub mirror' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: '1',
      name: 'containers',
      description: 'Docker Hub mirror',
      visibility: 'private',
      max_stored_bytes: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
    expect((await api.call('GET', '/registries/1')).json()).toEqual(body);
  });

  it('lists registries a page at a time, with the position in X-* headers', async () => {
    for (let i = 1; i <= 5; i += 1) await api.call('POST', '/registries', { name: `r${i}` });
    const res = await api.call('GET', '/registries?page=2&per_page=2');
    expect(res.statusCode).toBe(200);
    expect(res.json().map((r: { name: string }) => r.name)).toEqual(['r3', 'r4']);
    expect(res.headers).toMatchObject({
      'x-total': '5',
      'x-total-pages': '3',
      'x-page': '2',
      'x-per-page': '2',
      'x-next-page': '3',
      'x-prev-page': '1',
    });
    const last = await api.call('GET', '/registries?page=3&per_page=2');
    expect(last.headers['x-next-page']).toBe('');
  });

  it('uses page 1 and 20 per page when the query says nothing', async () => {
    const res = await api.call('GET', '/registries');
    expect(res.json()).toEqual([]);
    expect(res.headers).toMatchObject({ 'x-total': '0', 'x-page': '1', 'x-per-page': '20', 'x-total-pages': '1', 'x-prev-page': '' });
  });

  it('rejects a per_page above 100 and a page below 1 with VALIDATION_FAILED', async () => {
    for (const query of ['per_page=101', 'page=0', 'page=abc']) {
      const res = await api.call('GET', `/registries?${query}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    }
  });

  it('renames a registry and removes its description with null', async () => {
    await api.call('POST', '/registries', { name: 'old', description: 'text' });
    const res = await api.call('PATCH', '/registries/1', { name: 'new', description: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: '1', name: 'new' });
    expect(res.json()).not.toHaveProperty('description');
  });

  it('answers 409 CONFLICT for a name another registry has', async () => {
    await api.call('POST', '/registries', { name: 'taken' });
    const dup = await api.call('POST', '/registries', { name: 'taken' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({ errors: [{ code: 'CONFLICT', message: expect.any(String), detail: { field: 'name' } }] });
    await api.call('POST', '/registries', { name: 'other' });
    expect((await api.call('PATCH', '/registries/2', { name: 'taken' })).statusCode).toBe(409);
  });

  it.each([
    ['a missing name', {}],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name of 256 characters', { name: 'x'.repeat(256) }],
    ['a name that is not a string', { name: 42 }],
    ['an unknown field', { name: 'ok', color: 'blue' }],
    ['an array', [{ name: 'ok' }]],
  ])('answers 400 VALIDATION_FAILED for %s', async (_what, body) => {
    const res = await api.call('POST', '/registries', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('body') });
  });

  it('answers 400 VALIDATION_FAILED for malformed JSON and for an empty JSON body', async () => {
    const headers = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };
    const malformed = await api.server.inject({ method: 'POST', url: '/api/v1/registries', headers, payload: '{"name":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0].code).toBe('VALIDATION_FAILED');
    const empty = await api.server.inject({ method: 'POST', url: '/api/v1/registries', headers });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors[0].code).toBe('VALIDATION_FAILED');
    const noBody = await api.server.inject({
      method: 'POST',
      url: '/api/v1/registries',
      headers: { authorization: headers.authorization },
    });
    expect(noBody.statusCode).toBe(400);
  });

  it('accepts the 255-character name and rejects unknown fields in a PATCH', async () => {
    expect((await api.call('POST', '/registries', { name: 'x'.repeat(255) })).statusCode).toBe(201);
    const res = await api.call('PATCH', '/registries/1', { id: '7' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].detail.issues[0]).toMatchObject({ in: 'body' });
  });

  it('answers 404 NOT_FOUND for an unknown registry id', async () => {
    for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const res = await api.call(method, '/registries/42', body);
      expect(res.statusCode).toBe(404);
      expect(res.json().errors[0]).toMatchObject({ code: 'NOT_FOUND', detail: { registryId: '42' } });
    }
    expect((await api.call('GET', '/registries/not-a-number')).statusCode).toBe(404);
  });

  it('deletes a registry with its upstreams and answers 204 with no body', async () => {
    await api.call('POST', '/registries', { name: 'r' });
    await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://hub.example' });
    const res = await api.call('DELETE', '/registries/1');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await api.call('GET', '/registries/1')).statusCode).toBe(404);
    expect((await api.call('GET', '/upstreams/1')).statusCode).toBe(404);
  });
});
