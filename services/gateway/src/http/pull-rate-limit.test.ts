import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayPullConfig } from '../config.ts';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const registries: RegistryView[] = [
  { id: '1', name: 'one', upstreams: [{ id: '10', name: 'a', url: 'http://upstream.test', position: 0, cacheValidityHours: 24 }] },
];

describe('the pull API rate limit per client address', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('answers 429 TOOMANYREQUESTS with Retry-After past the limit, to that address only', async () => {
    h = await gatewayHarness(registries, { VREG_PULL_RATE_LIMIT: '3', VREG_PULL_RATE_WINDOW_MS: '3600000' });
    const get = (url: string, remoteAddress = '198.51.100.7') => h.server.inject({ method: 'GET', url, remoteAddress });
    // /v2/ challenges anonymous clients (401): counted all the same.
    for (let i = 0; i < 3; i++) expect((await get('/v2/')).statusCode).toBe(401);
    const refused = await get('/v2/virtual_registries/containers/1/library/alpine/manifests/latest');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      errors: [
        {
          code: 'TOOMANYREQUESTS',
          message: expect.stringContaining('too many requests'),
          detail: { retryAfterSeconds: expect.any(Number) },
        },
      ],
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect((await get('/v2/token?service=vreg')).statusCode).toBe(429);
    expect((await get('/v2/no/such/route/at/all')).statusCode).toBe(429);
    expect((await get('/v2/', '198.51.100.8')).statusCode).toBe(401);
    expect(h.upstream.calls.length).toBe(0);
  });

  it('limits nothing when VREG_PULL_RATE_LIMIT is 0', async () => {
    h = await gatewayHarness(registries, { VREG_PULL_RATE_LIMIT: '0' });
    for (let i = 0; i < 50; i++) expect((await h.server.inject({ method: 'GET', url: '/v2/' })).statusCode).toBe(401);
  });

  it('defaults to 1000 requests per 15 s, as GitLab does', () => {
    const config = loadGatewayPullConfig({});
    expect([config.VREG_PULL_RATE_LIMIT, config.VREG_PULL_RATE_WINDOW_MS]).toEqual([1000, 15_000]);
  });
});
