import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamLogger } from './http-sender.ts';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import type { FakeHttpServer } from './testing/fake-http-server.ts';
import { sendJson, startFakeHttpServer } from './testing/fake-http-server.ts';
import { UpstreamAddressPolicy } from './upstream-address-policy.ts';

const PASSWORD = 'ping-s3cr3t-P@ss';
const TOKEN = 'tok-ping-0123456789';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const API = { 'docker-distribution-api-version': 'registry/2.0' };

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  sendJson(res, status, status === 200 ? {} : { errors: [{ code: 'X' }] }, headers);
}

let registry: FakeHttpServer;
let auth: FakeHttpServer;
let lines: string[];
let client: HttpUpstreamRegistry;

beforeEach(async () => {
  [registry, auth] = await Promise.all([startFakeHttpServer(), startFakeHttpServer()]);
  lines = [];
  const log = (fields: object, message?: string) => void lines.push(JSON.stringify({ fields, message }));
  const logger: UpstreamLogger = { debug: log, warn: log };
  client = new HttpUpstreamRegistry({ logger, headersTimeoutMs: 5000, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
});
afterEach(async () => {
  await client.close();
  await Promise.all([registry.close(), auth.close()]);
});

/** Like distribution behind a token service: `/v2/` wants `Bearer TOKEN`, which the realm gives `alice:PASSWORD` only. */
function playBearer(): void {
  registry.handle((req, res) => {
    if (req.headers.authorization === `Bearer ${TOKEN}`) return answer(res, 200, API);
    answer(res, 401, { ...API, 'www-authenticate': `Bearer realm="${auth.url}/token",service="fake.registry"` });
  });
  auth.handle((req, res) => {
    if (req.headers.authorization !== basic('alice', PASSWORD)) return sendJson(res, 401, { details: 'bad credentials' });
    sendJson(res, 200, { token: TOKEN, expires_in: 300 });
  });
}

/** Like distribution behind htpasswd: `/v2/` wants Basic `alice:PASSWORD`. */
function playBasic(): void {
  registry.handle((req, res) => {
    if (req.headers.authorization === basic('alice', PASSWORD)) return answer(res, 200, API);
    answer(res, 401, { ...API, 'www-authenticate': 'Basic realm="fake"' });
  });
}

describe('HttpUpstreamRegistry.ping', () => {
  it('answers ok for an open registry, with the status, the latency and the API version, asking GET /v2/ under a path prefix', async () => {
    registry.handle((_req, res) => answer(res, 200, API));
    const ping = await client.ping({ url: `${registry.url}/mirror/` });
    expect(ping).toEqual({
      result: 'ok',
      status: 200,
      latencyMs: expect.any(Number),
      message: `${registry.url}/mirror/v2/ answered 200 anonymously (registry/2.0)`,
    });
    expect(ping.latencyMs).toBeGreaterThanOrEqual(0);
    expect(registry.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([['GET', '/mirror/v2/', undefined]]);
  });

  it('follows the bearer flow: a token request with the credentials and without a repository scope, then /v2/ with the token', async () => {
    playBearer();
    const ping = await client.ping({ url: registry.url, username: 'alice', password: PASSWORD });
    expect(ping).toMatchObject({ result: 'ok', status: 200, message: expect.stringContaining('with a bearer token') });
    const tokenUrl = new URL(auth.requests[0]!.url, auth.url);
    expect(tokenUrl.searchParams.get('service')).toBe('fake.registry');
    expect(tokenUrl.searchParams.has('scope')).toBe(false);
    expect(auth.requests[0]?.headers.authorization).toBe(basic('alice', PASSWORD));
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, `Bearer ${TOKEN}`]);
  });

  it('answers unauthorized when the token endpoint refuses the credentials, never quoting them', async () => {
    playBearer();
    const ping = await client.ping({ url: registry.url, username: 'alice', password: 'wrong-password' });
    expect(ping).toMatchObject({ result: 'unauthorized', status: 401 });
    expect(JSON.stringify(ping)).not.toContain('wrong-password');
    expect(lines.join('')).not.toContain('wrong-password');
  });

  it('checks the credentials anew on every ping instead of reusing a cached token', async () => {
    playBearer();
    await client.ping({ url: registry.url, username: 'alice', password: PASSWORD });
    await client.ping({ url: registry.url, username: 'alice', password: PASSWORD });
    expect(auth.requests).toHaveLength(2);
    expect(registry.requests[2]?.headers.authorization).toBeUndefined();
  });

  it('answers a Basic challenge with the credentials', async () => {
    playBasic();
    const ping = await client.ping({ url: registry.url, username: 'alice', password: PASSWORD });
    expect(ping).toMatchObject({ result: 'ok', status: 200, message: expect.stringContaining('with Basic credentials') });
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, basic('alice', PASSWORD)]);
  });

  it('answers unauthorized for wrong Basic credentials and for none', async () => {
    playBasic();
    const wrong = await client.ping({ url: registry.url, username: 'alice', password: 'nope-nope' });
    expect(wrong).toMatchObject({ result: 'unauthorized', status: 401, message: `${registry.url}/v2/ refused the credentials (401)` });
    const none = await client.ping({ url: registry.url });
    expect(none).toMatchObject({ result: 'unauthorized', status: 401, message: expect.stringContaining('requires credentials') });
    expect(JSON.stringify([wrong, none, lines])).not.toContain('nope-nope');
  });

  it('answers unauthorized for a 403', async () => {
    registry.handle((_req, res) => answer(res, 403, API));
    expect(await client.ping({ url: registry.url })).toMatchObject({ result: 'unauthorized', status: 403 });
  });

  it('answers unreachable, without a status, when the connection is refused', async () => {
    const gone = await startFakeHttpServer();
    await gone.close();
    const ping = await client.ping({ url: gone.url });
    expect(ping).toMatchObject({ result: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
    expect(ping.status).toBeUndefined();
  });

  it('answers unreachable when the host name does not resolve', async () => {
    const ping = await client.ping({ url: 'http://vreg-ping-test.invalid' }, { signal: AbortSignal.timeout(10_000) });
    expect(ping.result).toBe('unreachable');
  });

  it('answers unreachable when nothing answers before the deadline, and throws any other abort reason', async () => {
    registry.handle(() => undefined); // never answers
    const ping = await client.ping({ url: registry.url }, { signal: AbortSignal.timeout(150) });
    expect(ping).toMatchObject({ result: 'unreachable', message: `${registry.url}/v2/ did not answer in time` });
    const controller = new AbortController();
    const pending = client.ping({ url: registry.url }, { signal: controller.signal });
    controller.abort(new Error('caller gone'));
    await expect(pending).rejects.toThrow('caller gone');
  });

  it('answers rate_limited on 429 with Retry-After in the message', async () => {
    registry.handle((_req, res) => answer(res, 429, { ...API, 'retry-after': '30' }));
    expect(await client.ping({ url: registry.url })).toMatchObject({
      result: 'rate_limited',
      status: 429,
      message: expect.stringContaining('retry after 30s'),
    });
  });

  it.each([
    [404, {}],
    [404, API],
    [400, {}],
    [302, {}],
  ])('answers not_a_registry for %i without a registry API behind it', async (status, headers) => {
    registry.handle((req, res) => {
      // A 302 that lands on a plain web page.
      if (status === 302 && req.url === '/v2/') return void res.writeHead(302, { location: '/login' }).end();
      if (status === 302) return void res.writeHead(400, { 'content-type': 'text/html' }).end('<html></html>');
      answer(res, status, headers);
    });
    expect(await client.ping({ url: registry.url })).toMatchObject({ result: 'not_a_registry', status: status === 302 ? 400 : status });
  });

  it('answers error for a 5xx and for a token endpoint that fails', async () => {
    registry.handle((_req, res) => answer(res, 503));
    expect(await client.ping({ url: registry.url })).toMatchObject({ result: 'error', status: 503 });
    playBearer();
    auth.handle((_req, res) => sendJson(res, 500, {}));
    expect(await client.ping({ url: registry.url, username: 'alice', password: PASSWORD })).toMatchObject({ result: 'error', status: 500 });
  });

  it('throws a TypeError for a malformed URL without quoting it', async () => {
    await expect(client.ping({ url: 'not a url user:pw' })).rejects.toThrow(TypeError);
    await expect(client.ping({ url: 'not a url user:pw' })).rejects.not.toThrow(/pw/);
  });
});
