import { randomBytes } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from './adapters/memory/memory-catalog-store.ts';
import { buildApp, type CatalogApp } from './app.ts';
import { loadCatalogAppConfig } from './config.ts';
import { cacheEntryIdOf } from './domain/cache-entry-id.ts';
import { type RouteReach, RouteReaches } from './http/route-reach.ts';

// The guard of the reach rules: every route the catalog serves (with every
// optional group wired, as the runners wire them) is classified, and every
// route about something of another registry, or about every registry, is
// refused to a token restricted to one registry, before anything runs.

const ADMIN_TOKEN = 'reach-test-admin-token-123';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Operation {
  method: string;
  path: string;
  reach: RouteReach | undefined;
  public: boolean;
}

let bus: MemoryEventBus;
let store: MemoryCatalogStore;
let app: CatalogApp;
let server: FastifyInstance;
let operations: Operation[];

const call = (token: string, method: string, url: string, payload?: object) =>
  server.inject({
    method: method.toUpperCase() as 'GET',
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'reach-test' });
  bus = new MemoryEventBus({ logger });
  store = new MemoryCatalogStore();
  app = buildApp(loadCatalogAppConfig({ VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1' }), {
    bus,
    store,
    secretBox: new SecretBox(randomBytes(32)),
    logger,
    adminToken: ADMIN_TOKEN,
    blobs: new MemoryBlobStore(),
  });
  server = Fastify({ logger: false });
  await server.register(app.adminApi, { prefix: '/api/v1' });
  await server.ready();
  const document = (await server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
    paths: Record<string, Record<string, { 'x-vreg-reach'?: RouteReach; security?: unknown[] }>>;
  };
  operations = Object.entries(document.paths).flatMap(([path, ops]) =>
    METHODS.filter((m) => ops[m] !== undefined).map((m) => {
      const op = ops[m] as { 'x-vreg-reach'?: RouteReach; security?: unknown[] };
      return { method: m, path, reach: op['x-vreg-reach'], public: Array.isArray(op.security) && op.security.length === 0 };
    }),
  );
});

afterAll(async () => {
  await server?.close();
  await bus?.close();
  await store?.close();
});

describe('the reach of restricted tokens, route by route', () => {
  it('classifies every secured route of the admin API (x-vreg-reach)', () => {
    expect(operations.length).toBeGreaterThan(30);
    const known = Object.values(RouteReaches) as string[];
    const unclassified = operations.filter((o) => !o.public && !known.includes(o.reach ?? '')).map((o) => `${o.method} ${o.path}`);
    expect(unclassified, 'routes without config.reach: restricted tokens are refused there, say how they relate to registries').toEqual([]);
  });

  it('refuses a token restricted to registry 1 every route about registry 2, its upstreams, entries, jobs and tokens, and every global route', async () => {
    const mine = (await call(ADMIN_TOKEN, 'POST', '/registries', { name: 'mine' })).json();
    const other = (await call(ADMIN_TOKEN, 'POST', '/registries', { name: 'other' })).json();
    const otherUpstream = (
      await call(ADMIN_TOKEN, 'POST', `/registries/${other.id}/upstreams`, { name: 'u', url: 'https://b.example' })
    ).json();
    const otherJob = (await call(ADMIN_TOKEN, 'DELETE', `/registries/${other.id}/cache`)).json();
    const gcJob = (await call(ADMIN_TOKEN, 'POST', '/gc', { dry_run: true })).json();
    const unrestricted = (await call(ADMIN_TOKEN, 'POST', '/access_tokens', { name: 'root', scopes: ['admin'] })).json();
    const restricted = (
      await call(ADMIN_TOKEN, 'POST', '/access_tokens', {
        name: 'team',
        scopes: ['admin', 'read_virtual_registry'],
        registry_ids: [mine.id],
      })
    ).json();
    const idFor: Record<string, string[]> = {
      [RouteReaches.registry]: [other.id, '999'],
      [RouteReaches.upstream]: [otherUpstream.id, '999'],
      [RouteReaches.cacheEntry]: [cacheEntryIdOf({ upstreamId: otherUpstream.id, relativePath: 'library/x/manifests/latest' }), 'junk'],
      [RouteReaches.job]: [otherJob.id, gcJob.id, '999'],
      [RouteReaches.accessToken]: [unrestricted.id, '999'],
    };
    const tried: string[] = [];
    for (const op of operations) {
      if (op.public || op.reach === RouteReaches.caller || op.reach === RouteReaches.filtered) continue;
      const ids = op.path.includes('{id}') ? (idFor[op.reach as string] ?? ['1']) : [''];
      for (const id of ids) {
        const url = op.path.replace('/api/v1', '').replace('{id}', encodeURIComponent(id));
        const res = await call(restricted.token, op.method, url, op.method === 'get' || op.method === 'delete' ? undefined : {});
        tried.push(`${op.method} ${url}`);
        expect({ route: `${op.method} ${url}`, status: res.statusCode, code: res.json().errors?.[0]?.code }).toEqual({
          route: `${op.method} ${url}`,
          status: 403,
          code: 'DENIED',
        });
      }
    }
    expect(tried.length).toBeGreaterThan(40);
    // Nothing of registry 2 changed.
    expect((await call(ADMIN_TOKEN, 'GET', `/registries/${other.id}`)).json().name).toBe('other');
    expect((await call(ADMIN_TOKEN, 'GET', `/upstreams/${otherUpstream.id}`)).statusCode).toBe(200);
    expect((await call(ADMIN_TOKEN, 'GET', `/access_tokens/${unrestricted.id}`)).json().revoked).toBe(false);
  });

  it('answers HEAD on a list with the same filtered headers as GET', async () => {
    const ids: string[] = [];
    for (const name of ['h1', 'h2', 'h3']) ids.push((await call(ADMIN_TOKEN, 'POST', '/registries', { name })).json().id);
    const token = (
      await call(ADMIN_TOKEN, 'POST', '/access_tokens', { name: 'viewer', scopes: ['read_virtual_registry'], registry_ids: [ids[1]] })
    ).json().token as string;
    const get = await call(token, 'GET', '/registries?per_page=1');
    const head = await call(token, 'HEAD', '/registries?per_page=1');
    expect(get.json().map((r: { id: string }) => r.id)).toEqual([ids[1]]);
    expect(head.statusCode).toBe(200);
    for (const name of ['x-total', 'x-total-pages', 'x-next-page']) expect(head.headers[name], name).toBe(get.headers[name]);
    expect(head.headers['x-total']).toBe('1');
  });
});
