import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { buildApp as buildCatalog, loadCatalogAppConfig, MemoryCatalogStore } from '@vreg/catalog';
import { Streams } from '@vreg/contracts';
import { buildApp as buildFetcher, type FetcherApp, loadFetcherFillConfig } from '@vreg/fetcher';
import { MemoryFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { HttpUpstreamRegistry, UpstreamAddressPolicy } from '@vreg/upstream-client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ADMIN = 'wiring-admin-token-0123456789';
const PASSWORD = `wiring-pw-${randomBytes(8).toString('hex')}`;

/** A registry behind Basic auth (`bot:PASSWORD`), as distribution with htpasswd answers `/v2/`. */
async function startBasicRegistry(): Promise<{ url: string; authorizations: Array<string | undefined>; close(): Promise<void> }> {
  const authorizations: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const ok = req.url === '/v2/' && req.headers.authorization === `Basic ${Buffer.from(`bot:${PASSWORD}`).toString('base64')}`;
    res.writeHead(ok ? 200 : 401, {
      'docker-distribution-api-version': 'registry/2.0',
      'content-type': 'application/json',
      ...(ok ? {} : { 'www-authenticate': 'Basic realm="wiring"' }),
    });
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/**
 * The catalog's test-connection routes with the fetcher's responder on one
 * in-process bus, as embedded mode wires them, and the real upstream client.
 */
describe('upstream test connection, catalog and fetcher on one bus', () => {
  let lines: string[];
  let bus: MemoryEventBus;
  let server: FastifyInstance;
  let fetcher: FetcherApp;
  let upstreams: HttpUpstreamRegistry;
  let registry: Awaited<ReturnType<typeof startBasicRegistry>>;

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${ADMIN}` },
      ...(payload === undefined ? {} : { payload }),
    });

  beforeEach(async () => {
    lines = [];
    const logger = createLogger({ level: 'trace', name: 'wiring', destination: { write: (line: string) => void lines.push(line) } });
    bus = new MemoryEventBus({ logger });
    await bus.ensureStreams(Object.values(Streams));
    const secrets = new SecretBox(randomBytes(32));
    upstreams = new HttpUpstreamRegistry({ connectTimeoutMs: 2000, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
    registry = await startBasicRegistry();
    const catalog = buildCatalog(
      loadCatalogAppConfig({ VREG_CATALOG_OBJECTS_CONCURRENCY: '1', VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1' }),
      { bus, store: new MemoryCatalogStore(), secretBox: secrets, logger, adminToken: ADMIN, blobs: new MemoryBlobStore() },
    );
    fetcher = buildFetcher(loadFetcherFillConfig({}), {
      bus,
      store: new MemoryBlobStore(),
      leases: new MemoryFillLease(),
      upstreams,
      secrets,
      logger,
    });
    await catalog.start();
    await fetcher.start();
    server = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    await server.register(catalog.adminApi, { prefix: '/api/v1' });
    await server.ready();
  });
  afterEach(async () => {
    await server.close();
    await fetcher.stop();
    await bus.close();
    await upstreams.close();
    await registry.close();
  });

  it('answers ok with the right credentials and unauthorized with wrong ones, for a candidate', async () => {
    const ok = await call('POST', '/upstreams/test', { url: registry.url, username: 'bot', password: PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ success: true, result: 'ok', http_status: 200, latency_ms: expect.any(Number) });
    const wrong = await call('POST', '/upstreams/test', { url: registry.url, username: 'bot', password: 'not-the-password' });
    expect(wrong.json()).toMatchObject({ success: false, result: 'unauthorized', http_status: 401 });
    const none = await call('POST', '/upstreams/test', { url: registry.url });
    expect(none.json()).toMatchObject({ success: false, result: 'unauthorized', message: expect.stringContaining('requires credentials') });
  });

  it('tests a stored upstream with its stored password, which the fetcher opens', async () => {
    await call('POST', '/registries', { name: 'private' });
    const upstream = (
      await call('POST', '/registries/1/upstreams', { name: 'p', url: registry.url, username: 'bot', password: PASSWORD })
    ).json();
    const res = await call('POST', `/upstreams/${upstream.id}/test`);
    expect(res.json()).toMatchObject({ success: true, result: 'ok', http_status: 200 });
    expect(registry.authorizations.at(-1)).toBe(`Basic ${Buffer.from(`bot:${PASSWORD}`).toString('base64')}`);
  });

  it('answers unreachable for a closed port', async () => {
    const closed = await startBasicRegistry();
    await closed.close();
    const res = await call('POST', '/upstreams/test', { url: closed.url });
    expect(res.json()).toMatchObject({ success: false, result: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
    expect(res.json()).not.toHaveProperty('http_status');
  });

  it('answers 503 FETCHER_UNAVAILABLE once the fetcher has stopped', async () => {
    await fetcher.stop();
    const res = await call('POST', '/upstreams/test', { url: registry.url, username: 'bot', password: PASSWORD });
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0]).toMatchObject({ code: 'FETCHER_UNAVAILABLE', message: expect.stringContaining('no fetcher answered') });
  });

  it('never puts the password in a response or a log line, at trace level', async () => {
    const bodies = [
      (await call('POST', '/upstreams/test', { url: registry.url, username: 'bot', password: PASSWORD })).body,
      (await call('POST', '/upstreams/test', { url: 'not a url', username: 'bot', password: PASSWORD })).body,
    ];
    await fetcher.stop();
    bodies.push((await call('POST', '/upstreams/test', { url: registry.url, username: 'bot', password: PASSWORD })).body);
    expect(lines.join('')).toContain('upstream tested');
    for (const text of [...bodies, lines.join('')]) expect(text).not.toContain(PASSWORD);
  });
});
