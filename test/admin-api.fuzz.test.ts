import { Subjects, UpstreamTestRequestSchema } from '@vreg/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness, TEST_ADMIN_TOKEN } from '../services/catalog/src/http/testing/admin-api-harness.ts';
import { adminContractBreach, adminRequest } from './support/admin-input-arbitraries.ts';
import { runFuzz } from './support/fuzz-record.ts';

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
      { seed: 90_002, numRuns: 1000 },
    );
    expect(record).toMatchObject({ cases: 1000, failures: 0 });
    expect((await api.call('GET', '/registries')).statusCode).toBe(200);
  }, 60_000);
});
