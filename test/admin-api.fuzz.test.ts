import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, UpstreamTestRequestSchema } from '@vreg/contracts';
import { startAdminApiHarness, TEST_ADMIN_TOKEN, type AdminApiHarness } from '../services/catalog/src/http/testing/admin-api-harness.ts';
import { segment, traversal } from './support/bad-input-arbitraries.ts';
import { runFuzz } from './support/fuzz-record.ts';

// Fuzz of the admin API (/api/v1) through fastify's inject, seeded and
// bounded; its record goes to .vreg-test/results/fuzz-admin-api-inject.json
// (format in test/support/fuzz-record.ts: { suite, checked, cases, failures, seed, pass, ... }).

/** The codes the admin API answers 4xx with (services/catalog/src/http/admin-error-handler.ts). */
const ADMIN_ERROR_CODES = new Set(['VALIDATION_FAILED', 'UNAUTHORIZED', 'DENIED', 'NOT_FOUND', 'NAME_UNKNOWN', 'CONFLICT']);

const id = fc.oneof(fc.constantFrom('1', '2', '0', '-1', '1.5', '1e2', '99999999999999999999999999', '0x1', 'abc', '%31', ' 1', ''), traversal, segment);
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const longText = fc.integer({ min: 256, max: 20_000 }).map((n) => 'x'.repeat(n));
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), unicode, longText);
const upstreamUrl = fc.oneof(
  fc.constantFrom(
    'https://registry.invalid', 'http://registry.invalid:5000/prefix/', 'https://user:pass@registry.invalid', 'https://registry.invalid/?q=1#f',
    'ftp://registry.invalid', 'javascript:alert(1)', 'file:///etc/passwd', 'http://', 'http://[::1]', 'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:5000', 'http://0x7f.1', 'http://2130706433', 'http://[::ffff:10.0.0.1]', 'http://10.0.0.1', 'http://ü.invalid', 'HTTP://REGISTRY.INVALID',
    'http://registry.invalid/%2e%2e/%2e%2e', 'http://registry.invalid:99999', 'http://registry.invalid:-1', ' http://registry.invalid', 'http://reg istry.invalid',
  ),
  unicode,
  longText.map((x) => `https://registry.invalid/${x}`),
);
const registryBody = fc.record(
  { name: fc.oneof(unicode, longText, anyValue), description: fc.oneof(unicode, longText, fc.constant(null), anyValue), visibility: fc.oneof(fc.constantFrom('public', 'private', 'internal', ''), anyValue), extra: anyValue },
  { requiredKeys: [] },
);
const upstreamBody = fc.record(
  {
    name: fc.oneof(unicode, longText, anyValue),
    url: fc.oneof(upstreamUrl, anyValue),
    username: fc.oneof(unicode, fc.constant(null), anyValue),
    password: fc.oneof(unicode, longText, fc.constant(null), anyValue),
    cache_validity_hours: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), anyValue),
    library_prefix: fc.oneof(fc.boolean(), anyValue),
    position: fc.oneof(fc.integer({ min: -5, max: 1_000_000_000 }), anyValue),
  },
  { requiredKeys: [] },
);
const tokenBody = fc.record(
  {
    name: fc.oneof(unicode, longText, anyValue),
    scopes: fc.oneof(fc.array(fc.constantFrom('read_virtual_registry', 'admin', 'write', ''), { maxLength: 4 }), anyValue),
    registry_ids: fc.oneof(fc.array(id, { maxLength: 4 }), anyValue),
    expires_at: fc.oneof(fc.constantFrom('2030-01-01T00:00:00Z', '1999-01-01', 'tomorrow', ''), anyValue),
  },
  { requiredKeys: [] },
);

/** A request as inject takes it: a route-shaped path and a body that is valid-ish, wrongly typed, not JSON or absent. */
const request = fc.oneof(
  fc.record({ method: fc.constantFrom('POST', 'PATCH'), path: fc.constant('/registries'), body: registryBody }),
  fc.record({ method: fc.constantFrom('GET', 'PATCH', 'DELETE'), path: id.map((i) => `/registries/${i}`), body: fc.option(registryBody, { nil: undefined }) }),
  fc.record({ method: fc.constantFrom('GET', 'POST'), path: id.map((i) => `/registries/${i}/upstreams`), body: upstreamBody }),
  fc.record({ method: fc.constantFrom('GET', 'PATCH', 'DELETE'), path: id.map((i) => `/upstreams/${i}`), body: fc.option(upstreamBody, { nil: undefined }) }),
  fc.record({ method: fc.constant('POST'), path: fc.oneof(fc.constant('/upstreams/test'), id.map((i) => `/upstreams/${i}/test`)), body: fc.option(upstreamBody, { nil: undefined }) }),
  fc.record({ method: fc.constant('GET'), path: fc.tuple(id, fc.oneof(fc.integer({ min: -3, max: 2_000_000 }).map(String), unicode)).map(([i, p]) => `/upstreams/${i}/cache_entries?page=${encodeURIComponent(p)}&per_page=${encodeURIComponent(p)}`), body: fc.constant(undefined) }),
  fc.record({ method: fc.constantFrom('GET', 'POST', 'DELETE'), path: fc.oneof(fc.constant('/access_tokens'), id.map((i) => `/access_tokens/${i}`)), body: fc.option(tokenBody, { nil: undefined }) }),
  fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS'), path: fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`), body: fc.option(anyValue, { nil: undefined }) }),
);
/** How the body goes out: JSON, raw text that is not JSON, or under a content type that is not JSON. */
const encoding = fc.constantFrom('json', 'json', 'json', 'broken-json', 'text', 'empty-json');
const authorization = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${TEST_ADMIN_TOKEN}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', `Bearer ${TEST_ADMIN_TOKEN}x`, `Basic ${Buffer.from(`a:${TEST_ADMIN_TOKEN}`).toString('base64')}`, `bearer ${TEST_ADMIN_TOKEN}`, 'Bearer vreg_nope') },
);

describe('admin API fuzz (inject)', () => {
  let api: AdminApiHarness;
  beforeAll(async () => {
    api = await startAdminApiHarness();
    // The fetcher's test-connection responder, so POST .../test answers instead of waiting for a fetcher.
    await api.bus.serve(Subjects.upstreamTest, UpstreamTestRequestSchema, async () => ({ success: false, result: 'unreachable', latencyMs: 1, message: 'no answer' }));
    for (const name of ['one', 'two']) expect((await api.call('POST', '/registries', { name })).statusCode).toBe(201);
    expect((await api.call('POST', '/registries/1/upstreams', { name: 'u', url: 'https://registry.invalid' })).statusCode).toBe(201);
  });
  afterAll(async () => api?.close());

  it('answers every hostile request below 500 with an admin errors body, and stays up', async () => {
    const record = await runFuzz(
      'admin API (inject)',
      'status < 500 and, for 4xx, an admin { errors: [{ code, message, detail }] } body with a documented code; the API answers afterwards',
      fc.asyncProperty(request, encoding, authorization, async ({ method, path, body }, how, auth) => {
        const headers: Record<string, string> = { authorization: auth };
        let payload: string | undefined;
        if (how === 'empty-json') {
          headers['content-type'] = 'application/json';
          payload = '';
        } else if (body !== undefined) {
          const json = JSON.stringify(body) ?? 'null';
          if (how === 'broken-json') payload = json.slice(0, Math.max(1, json.length - 1)) + '\u0000';
          else payload = json;
          headers['content-type'] = how === 'text' ? 'text/plain' : 'application/json';
        }
        const res = await api.server.inject({ method: method as 'GET', url: `/api/v1${path}`, headers, ...(payload === undefined ? {} : { payload }) });
        if (res.statusCode >= 500) throw new Error(`${method} ${path.slice(0, 200)} (${how}) answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400) {
          const code = (JSON.parse(res.body) as { errors?: Array<{ code?: unknown; message?: unknown }> }).errors?.[0]?.code;
          if (typeof code !== 'string' || !ADMIN_ERROR_CODES.has(code)) throw new Error(`${method} ${path.slice(0, 200)} answered ${res.statusCode} with ${res.body.slice(0, 300)}`);
        }
      }),
      { seed: 90_002, numRuns: 1000 },
    );
    expect(record).toMatchObject({ cases: 1000, failures: 0 });
    expect((await api.call('GET', '/registries')).statusCode).toBe(200);
  }, 60_000);
});
