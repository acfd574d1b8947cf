import { Subjects, UpstreamTestRequestSchema } from '@vreg/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness, TEST_ADMIN_TOKEN } from '../services/catalog/src/http/testing/admin-api-harness.ts';
import { adminContractBreach, adminRequest } from './support/admin-input-arbitraries.ts';
import { runFuzz } from './support/fuzz-record.ts';
import { AttackClasses } from './support/security-record.ts';

// Fuzz of the admin API (/api/v1) through fastify's inject, seeded and
// bounded; its record goes to .vreg-test/results/fuzz-admin-api-inject.json
// (format in test/support/fuzz-record.ts: { suite, checked, cases, failures, seed, pass, ... }).

describe('admin API fuzz (inject)', () => {
  let api: AdminApiHarness;
  beforeAll(async () => {
    api = await startAdminApiHarness();
    // The fetcher's test-connection responder, so POST .../test answers instead of waiting for a fetcher.
    await api.bus.serve(Subjects.upstreamTest, UpstreamTestRequestSchema, async () => ({
      success: false,
      result: 'unreachable',
      latencyMs: 1,
      message: 'no answer',
    }));
    for (const name of ['one', 'two']) expect((await api.call('POST', '/registries', { name })).statusCode).toBe(201);
    expect((await api.call('POST', '/registries/1/upstreams', { name: 'u', url: 'https://registry.invalid' })).statusCode).toBe(201);
  });
  afterAll(async () => api?.close());

  it('answers every hostile request below 500 with an admin errors body, and stays up', async () => {
    const record = await runFuzz(
      'admin API (inject)',
      'status < 500 and, for 4xx, an admin { errors: [{ code, message, detail }] } body with a documented code; the API answers afterwards',
      fc.asyncProperty(adminRequest(TEST_ADMIN_TOKEN), async (req) => {
        const res = await api.server.inject({
          method: req.method as 'GET',
          url: `/api/v1${req.path}`,
          headers: req.headers,
          ...(req.payload === undefined ? {} : { payload: req.payload }),
        });
        const breach = adminContractBreach(req, res.statusCode, res.body);
        if (breach !== undefined) throw new Error(breach);
      }),
      { seed: 90_002, numRuns: 2000 },
    );
    expect(record).toMatchObject({ cases: 2000, failures: 0 });
    expect((await api.call('GET', '/registries')).statusCode).toBe(200);
  }, 120_000);
});

describe('admin API fuzz with a token restricted to one registry (inject)', () => {
  let api: AdminApiHarness;
  let restricted: string;
  /** Everything beyond registry 1: it must read the same after every request of the restricted token. */
  const beyondReach = async () => {
    const store = api.store;
    const registries = (await store.registries.list({ page: 1, perPage: 100 })).items.filter((r) => r.id !== '1');
    const tokens = (await store.accessTokens.list({ page: 1, perPage: 100 })).items.filter(
      (t) => !(t.registryIds !== undefined && t.registryIds.length > 0 && t.registryIds.every((id) => id === '1')),
    );
    const other = await Promise.all(
      registries.map(async (r) => ({
        registry: r,
        upstreams: await store.upstreams.listByRegistry(r.id),
        cleanup: await store.cleanupPolicies.get(r.id),
        pull: await store.pullPolicies.get(r.id),
      })),
    );
    const jobs = (await store.jobs.list({}, { page: 1, perPage: 100 })).items.filter((j) => j.registryId !== '1');
    return JSON.stringify({ other, tokens, jobs });
  };

  beforeAll(async () => {
    api = await startAdminApiHarness();
    for (const name of ['mine', 'other', 'third']) expect((await api.call('POST', '/registries', { name })).statusCode).toBe(201);
    expect((await api.call('POST', '/registries/2/upstreams', { name: 'u', url: 'https://registry.invalid' })).statusCode).toBe(201);
    expect(
      (await api.call('PUT', '/registries/2/cleanup_policy', { enabled: true, keep_n_days_after_download: 30, cadence: 7 })).statusCode,
    ).toBe(200);
    expect((await api.call('DELETE', '/registries/3/cache')).statusCode).toBe(202);
    expect((await api.call('POST', '/access_tokens', { name: 'root', scopes: ['admin'] })).statusCode).toBe(201);
    const team = await api.call('POST', '/access_tokens', {
      name: 'team',
      scopes: ['admin', 'read_virtual_registry'],
      registry_ids: ['1'],
    });
    restricted = team.json().token as string;
  });
  afterAll(async () => api?.close());

  it('answers below 500 and changes nothing beyond its registry, whatever it asks', async () => {
    const before = await beyondReach();
    const record = await runFuzz(
      'admin API, restricted token (inject)',
      'hostile requests with an admin token restricted to registry 1: status < 500, an admin errors body with a documented code on 4xx, and after every request the other registries, their upstreams, cleanup and pull policies, their jobs and every token not restricted to registry 1 read exactly as before',
      fc.asyncProperty(adminRequest(restricted), async (req) => {
        const res = await api.server.inject({
          method: req.method as 'GET',
          url: `/api/v1${req.path}`,
          headers: req.headers,
          ...(req.payload === undefined ? {} : { payload: req.payload }),
        });
        const breach = adminContractBreach(req, res.statusCode, res.body);
        if (breach !== undefined) throw new Error(breach);
        if ((await beyondReach()) !== before)
          throw new Error(`${req.method} ${req.path.slice(0, 200)} changed something beyond registry 1`);
      }),
      { seed: 90_008, numRuns: 1500, attack: AttackClasses.adminScopeEscalation },
    );
    expect(record).toMatchObject({ cases: 1500, failures: 0 });
  }, 120_000);
});
