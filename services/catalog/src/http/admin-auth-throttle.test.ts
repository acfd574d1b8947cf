import { FailureLimiter } from '@vreg/secrets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness, TEST_ADMIN_TOKEN } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
let now: number;
beforeEach(async () => {
  now = 0;
  api = await startAdminApiHarness({ authFailures: new FailureLimiter({ burst: 3, windowSeconds: 30, maxKeys: 100, now: () => now }) });
});
afterEach(async () => {
  await api.close();
});

const from = (remoteAddress: string, authorization?: string) =>
  api.server.inject({
    method: 'GET',
    url: '/api/v1/registries',
    remoteAddress,
    headers: authorization === undefined ? {} : { authorization },
  });

describe('admin API: failed authentications are throttled per client address', () => {
  it('answers 429 TOOMANYREQUESTS with Retry-After once an address used up its failures, the right token included', async () => {
    for (let i = 0; i < 3; i += 1) expect((await from('203.0.113.9', `Bearer wrong-${i}`)).statusCode).toBe(401);
    const throttled = await from('203.0.113.9', 'Bearer wrong-again');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('10');
    expect(throttled.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: expect.stringContaining('retry after 10s'), detail: { retryAfterSeconds: 10 } }],
    });
    expect((await from('203.0.113.9', `Bearer ${TEST_ADMIN_TOKEN}`)).statusCode).toBe(429);
    expect((await from('203.0.113.10', `Bearer ${TEST_ADMIN_TOKEN}`)).statusCode).toBe(200);
    now += 10_000;
    expect((await from('203.0.113.9', `Bearer ${TEST_ADMIN_TOKEN}`)).statusCode).toBe(200);
  });

  it('counts an IPv6 client by its /64, and malformed headers like wrong tokens', async () => {
    expect((await from('2001:db8:1:2::1', 'Basic Zm9vOmJhcg==')).statusCode).toBe(401);
    expect((await from('2001:db8:1:2::2', 'Bearer vregat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).statusCode).toBe(401);
    expect((await from('2001:db8:1:2:ffff::3', 'Bearer x')).statusCode).toBe(401);
    expect((await from('2001:db8:1:2::4', 'Bearer y')).statusCode).toBe(429);
    expect((await from('2001:db8:1:3::4', 'Bearer y')).statusCode).toBe(401);
  });

  it('does not count requests without credentials, nor successes', async () => {
    for (let i = 0; i < 10; i += 1) expect((await from('198.51.100.1')).statusCode).toBe(401);
    for (let i = 0; i < 10; i += 1) expect((await from('198.51.100.1', `Bearer ${TEST_ADMIN_TOKEN}`)).statusCode).toBe(200);
    expect((await from('198.51.100.1', 'Bearer wrong')).statusCode).toBe(401);
  });
});
