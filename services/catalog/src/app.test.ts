import { randomBytes } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { EntryLookupReplySchema, ErrorCodes, type ObjectStored, objectStoredMsgId, RegistryViewSchema, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryCatalogStore } from './adapters/memory/memory-catalog-store.ts';
import { buildApp, type CatalogApp } from './app.ts';
import { loadCatalogAppConfig } from './config.ts';

const ADMIN_TOKEN = 'app-test-admin-token-123';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DIGEST = `sha256:${'f'.repeat(64)}`;

let bus: MemoryEventBus;
let store: MemoryCatalogStore;
let app: CatalogApp;
let server: FastifyInstance;

beforeEach(async () => {
  const logger = createLogger({ level: 'silent', name: 'catalog-test' });
  bus = new MemoryEventBus({ logger });
  store = new MemoryCatalogStore();
  app = buildApp(loadCatalogAppConfig({ VREG_CATALOG_OBJECTS_CONCURRENCY: '2' }), {
    bus,
    store,
    secretBox: new SecretBox(randomBytes(32)),
    logger,
    adminToken: ADMIN_TOKEN,
    blobs: new MemoryBlobStore(),
  });
  server = Fastify({ logger: false });
  await server.register(app.adminApi, { prefix: '/api/v1' });
  await app.start();
});

afterEach(async () => {
  await app.stop();
  await server.close();
  await bus.close();
  await store.close();
});

/** A registry with one upstream, made through the admin API as an operator would. */
async function registryWithUpstream(): Promise<{ registryId: string; upstreamId: string }> {
  const registry = (
    await server.inject({ method: 'POST', url: '/api/v1/registries', headers: auth, payload: { name: 'containers' } })
  ).json();
  const upstream = (
    await server.inject({
      method: 'POST',
      url: `/api/v1/registries/${registry.id}/upstreams`,
      headers: auth,
      payload: { name: 'hub', url: 'https://registry-1.docker.io', username: 'bot', password: 'pw-secret-1' },
    })
  ).json();
  return { registryId: registry.id, upstreamId: upstream.id };
}

describe('buildApp', () => {
  it('resolves a registry made through the admin API over the bus, with the password sealed', async () => {
    const { registryId, upstreamId } = await registryWithUpstream();
    const view = await bus.request(Subjects.registryResolve, { registryId }, { schema: RegistryViewSchema });
    expect(view).toMatchObject({
      id: registryId,
      name: 'containers',
      upstreams: [{ id: upstreamId, username: 'bot', position: 0, cacheValidityHours: 24 }],
    });
    expect(view.upstreams[0]?.passwordSealed).toMatch(/^v2\./);
    expect(JSON.stringify(view)).not.toContain('pw-secret-1');
  });

  it('answers NAME_UNKNOWN over the bus for a registry that does not exist', async () => {
    await expect(bus.request(Subjects.registryResolve, { registryId: '999' }, { schema: RegistryViewSchema })).rejects.toMatchObject({
      code: ErrorCodes.nameUnknown,
    });
  });

  it('turns an object.stored event into an entry that entry.lookup finds, once however often it is published', async () => {
    const { registryId, upstreamId } = await registryWithUpstream();
    const event: ObjectStored = {
      eventId: 'ev-1',
      registryId,
      upstreamId,
      relativePath: 'library/alpine/manifests/latest',
      digest: DIGEST,
      contentType: 'application/vnd.oci.image.index.v1+json',
      size: 9,
      upstreamCheckedAt: '2025-07-01T00:00:00.000Z',
      storedAt: '2025-07-01T00:00:01.000Z',
    };
    await bus.publish(Subjects.objectStored, event, { msgId: objectStoredMsgId(event) });
    await bus.publish(Subjects.objectStored, { ...event, eventId: 'ev-1-again' });
    const lookup = () =>
      bus.request(Subjects.entryLookup, { registryId, relativePath: event.relativePath }, { schema: EntryLookupReplySchema });
    await vi.waitFor(async () => expect((await lookup()).entry).toBeDefined());
    expect((await lookup()).entry).toMatchObject({ upstreamId, digest: DIGEST, upstreamCheckedAt: '2025-07-01T00:00:00.000Z' });
    await vi.waitFor(async () => expect(await store.cacheEntries.countByUpstream(upstreamId)).toBe(1));
    expect(bus.deadLetters).toEqual([]);
  });

  it('adds entry.served batches to the download count shown by the admin API', async () => {
    const { registryId, upstreamId } = await registryWithUpstream();
    const relativePath = `library/alpine/blobs/${DIGEST}`;
    await store.cacheEntries.upsert({
      upstreamId,
      registryId,
      relativePath,
      digest: DIGEST,
      contentType: 'application/octet-stream',
      size: 1,
      upstreamCheckedAt: new Date(),
    });
    await bus.publish(Subjects.entryServed, {
      eventId: 's1',
      upstreamId,
      relativePath,
      count: 3,
      downloadedAt: '2025-07-02T00:00:00.000Z',
    });
    await bus.publish(Subjects.entryServed, {
      eventId: 's2',
      upstreamId,
      relativePath,
      count: 2,
      downloadedAt: '2025-07-01T00:00:00.000Z',
    });
    await vi.waitFor(async () => {
      const entries = (await server.inject({ method: 'GET', url: `/api/v1/upstreams/${upstreamId}/cache_entries`, headers: auth })).json();
      expect(entries[0]).toMatchObject({ downloads_count: 5, downloaded_at: '2025-07-02T00:00:00.000Z' });
    });
  });

  it('stops answering after stop and starts again after start', async () => {
    const { registryId } = await registryWithUpstream();
    await app.start(); // a second start is a no-op
    await app.stop();
    await expect(
      bus.request(Subjects.registryResolve, { registryId }, { schema: RegistryViewSchema, timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: ErrorCodes.catalogUnavailable,
    });
    await app.start();
    await expect(bus.request(Subjects.registryResolve, { registryId }, { schema: RegistryViewSchema })).resolves.toMatchObject({
      id: registryId,
    });
  });
});
