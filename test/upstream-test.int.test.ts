import type { UpstreamTestJson } from '@vreg/contracts/admin-api-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedWithLogs } from './support/auth-embedded.ts';
import { startTestRegistry, type TestRegistry } from './support/auth-registry.ts';
import type { AuthVregUnderTest } from './support/auth-scenarios.ts';
import { freePort } from './support/distributed-under-test.ts';
import { testEnv } from './support/test-env.ts';

/**
 * Test connection (`POST /api/v1/upstreams/test` and `/upstreams/:id/test`)
 * in embedded mode, against real registries: the seeded open one, a closed
 * port, and a distribution registry behind htpasswd Basic auth with wrong
 * and right credentials. The catalog asks the fetcher over the in-process
 * bus; every log line (trace level) is kept to prove no password is in one.
 */
describe('upstream test connection (embedded mode)', () => {
  const env = testEnv();
  let vreg: AuthVregUnderTest;
  let privateRegistry: TestRegistry;
  let password: string;
  const WRONG = 'wrong-upstream-password-9f3c2a';
  const bodies: string[] = [];

  async function test(path: string, body?: Record<string, unknown>): Promise<{ status: number; body: UpstreamTestJson }> {
    const res = await vreg.admin.call<UpstreamTestJson>('POST', path, body);
    bodies.push(JSON.stringify(res.body));
    return res;
  }

  beforeAll(async () => {
    privateRegistry = await startTestRegistry({ auth: true });
    password = privateRegistry.credentials?.password ?? '';
    vreg = await startEmbeddedWithLogs();
  });
  afterAll(async () => {
    await vreg?.stop();
    await privateRegistry?.destroy();
  });

  it('answers ok for the real upstream registry, as a candidate and stored', async () => {
    const candidate = await test('/upstreams/test', { url: env.upstreamA });
    expect(candidate.status).toBe(200);
    expect(candidate.body).toMatchObject({
      success: true,
      result: 'ok',
      http_status: 200,
      message: expect.stringContaining('registry/2.0'),
    });
    expect(candidate.body.latency_ms).toBeGreaterThanOrEqual(0);
    const registry = await vreg.admin.createRegistry('open');
    const upstream = await vreg.admin.addUpstream(registry.id, { name: 'a', url: env.upstreamA });
    expect((await test(`/upstreams/${upstream.id}/test`)).body).toMatchObject({ success: true, result: 'ok', http_status: 200 });
  });

  it('answers unreachable for a closed port', async () => {
    const res = await test('/upstreams/test', { url: `http://127.0.0.1:${await freePort()}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, result: 'unreachable' });
    expect(res.body.http_status).toBeUndefined();
  });

  it('answers not_a_registry for an HTTP server without the registry API', async () => {
    // vreg's admin API is HTTP, but /api/v1/v2/ is no registry.
    const res = await test('/upstreams/test', { url: `${vreg.gatewayUrl}/api/v1` });
    expect(res.body).toMatchObject({ success: false, result: 'not_a_registry' });
  });

  it('answers unauthorized for wrong or missing Basic credentials and ok for the right ones, as a candidate', async () => {
    const url = privateRegistry.url;
    expect((await test('/upstreams/test', { url, username: 'puller', password: WRONG })).body).toMatchObject({
      success: false,
      result: 'unauthorized',
      http_status: 401,
    });
    expect((await test('/upstreams/test', { url })).body).toMatchObject({
      success: false,
      result: 'unauthorized',
      http_status: 401,
      message: expect.stringContaining('requires credentials'),
    });
    expect((await test('/upstreams/test', { url, username: 'puller', password })).body).toMatchObject({
      success: true,
      result: 'ok',
      http_status: 200,
      message: expect.stringContaining('Basic'),
    });
  });

  it('tests stored upstreams with their sealed passwords, and follows a password change', async () => {
    const registry = await vreg.admin.createRegistry('private', { visibility: 'private' });
    const upstream = await vreg.admin.addUpstream(registry.id, {
      name: 'p',
      url: privateRegistry.url,
      username: 'puller',
      password: WRONG,
    });
    expect((await test(`/upstreams/${upstream.id}/test`)).body).toMatchObject({ success: false, result: 'unauthorized', http_status: 401 });
    const patched = await vreg.admin.call('PATCH', `/upstreams/${upstream.id}`, { password });
    expect(patched.status).toBe(200);
    expect((await test(`/upstreams/${upstream.id}/test`)).body).toMatchObject({ success: true, result: 'ok', http_status: 200 });
    expect((await test('/upstreams/999/test')).status).toBe(404);
  });

  it('never puts an upstream password in a response or a log line', () => {
    expect(bodies.length).toBeGreaterThanOrEqual(9);
    const logs = vreg.logs();
    expect(logs).toContain('upstream tested');
    for (const text of [...bodies, logs]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(WRONG);
    }
  });
});
