import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness, TEST_ADMIN_TOKEN } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

describe('admin API: authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-wrong-token' }],
    ['the token without the Bearer scheme', { authorization: TEST_ADMIN_TOKEN }],
    ['Basic credentials', { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
  ])('answers 401 UNAUTHORIZED with a Bearer challenge for %s', async (_what, headers) => {
    for (const [method, url] of [
      ['GET', '/api/v1/registries'],
      ['POST', '/api/v1/registries'],
      ['DELETE', '/api/v1/upstreams/1'],
    ] as const) {
      const res = await api.server.inject({ method, url, headers, ...(method === 'POST' ? { payload: { name: 'x' } } : {}) });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="vreg-admin"');
      expect(res.json().errors[0].code).toBe('UNAUTHORIZED');
    }
    expect((await api.store.registries.list({ page: 1, perPage: 10 })).total).toBe(0);
  });

  it('accepts the bearer scheme in any letter case', async () => {
    const res = await api.server.inject({
      method: 'GET',
      url: '/api/v1/registries',
      headers: { authorization: `bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('checks the token before it validates the body', async () => {
    const res = await api.server.inject({ method: 'POST', url: '/api/v1/registries', payload: { nonsense: true } });
    expect(res.statusCode).toBe(401);
  });
});

describe('admin API: errors', () => {
  it('answers 404 NOT_FOUND as JSON for a path no route serves', async () => {
    const res = await api.call('GET', '/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].code).toBe('NOT_FOUND');
  });

  it('answers 500 INTERNAL without the cause when the store fails', async () => {
    api.store.registries.list = async () => {
      throw new Error('mongo exploded at 10.0.0.7');
    };
    const res = await api.call('GET', '/registries');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ errors: [{ code: 'INTERNAL', message: 'internal error', detail: null }] });
  });

  it('answers 415 with VALIDATION_FAILED for a body in a media type it does not read', async () => {
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/registries',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/xml' },
      payload: '<registry name="x"/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    const text = await api.server.inject({
      method: 'POST',
      url: '/api/v1/registries',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      payload: 'name=x',
    });
    expect(text.statusCode).toBe(400);
    expect(text.json().errors[0].code).toBe('VALIDATION_FAILED');
  });
});

describe('admin API: OpenAPI document', () => {
  it('serves without a token a document listing every route with its methods', async () => {
    const res = await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'DELETE /api/v1/access_tokens/{id}',
        'DELETE /api/v1/registries/{id}',
        'DELETE /api/v1/upstreams/{id}',
        'GET /api/v1/access_tokens',
        'GET /api/v1/access_tokens/{id}',
        'GET /api/v1/jobs',
        'GET /api/v1/jobs/{id}',
        'GET /api/v1/session',
        'GET /api/v1/stats/overview',
        'DELETE /api/v1/cache_entries/{id}',
        'DELETE /api/v1/registries/{id}/cache',
        'DELETE /api/v1/registries/{id}/cleanup_policy',
        'DELETE /api/v1/upstreams/{id}/cache',
        'GET /api/v1/registries/{id}/cache_entries',
        'GET /api/v1/registries/{id}/cleanup_policy',
        'GET /api/v1/registries/{id}/cleanup_runs',
        'GET /api/v1/registries/{id}/usage',
        'POST /api/v1/registries/{id}/cleanup_policy/run',
        'PUT /api/v1/registries/{id}/cleanup_policy',
        'GET /api/v1/registries/{id}/pull_policy',
        'PUT /api/v1/registries/{id}/pull_policy',
        'DELETE /api/v1/registries/{id}/pull_policy',
        'GET /api/v1/registries/{id}/policy_denials',
        'GET /api/v1/policy_denials',
        'POST /api/v1/access_tokens',
        'GET /api/v1/openapi.json',
        'GET /api/v1/registries',
        'GET /api/v1/registries/{id}',
        'GET /api/v1/registries/{id}/upstreams',
        'GET /api/v1/upstreams/{id}',
        'GET /api/v1/upstreams/{id}/cache_entries',
        'PATCH /api/v1/registries/{id}',
        'PATCH /api/v1/upstreams/{id}',
        'POST /api/v1/registries',
        'POST /api/v1/registries/{id}/upstreams',
        'POST /api/v1/upstreams/test',
        'POST /api/v1/upstreams/{id}/test',
      ].sort(),
    );
  });

  it('describes the request bodies with the schemas that validate them', async () => {
    const doc = (await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const create = doc.paths['/api/v1/registries/{id}/upstreams'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.required).toEqual(['name', 'url']);
    expect(body.properties.cache_validity_hours).toMatchObject({ default: 24, minimum: 0, maximum: 8760 });
    expect(body.properties.password).toMatchObject({ writeOnly: true });
    expect(create.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '404']);
    const upstream = create.responses['201'].content['application/json'].schema;
    expect(Object.keys(upstream.properties)).toContain('has_password');
    expect(Object.keys(upstream.properties)).not.toContain('password');
    const list = doc.paths['/api/v1/registries'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['page', 'per_page']);
    expect(Object.keys(list.responses['200'].headers)).toContain('X-Total');
    expect(doc.paths['/api/v1/openapi.json'].get.security).toEqual([]);
  });
});
