import { randomBytes } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import {
  type CacheEntryView,
  EntryLookupRequestSchema,
  MirrorResolveRequestSchema,
  NameUnknownError,
  ObjectStoredSchema,
  RegistryResolveRequestSchema,
  type RegistryView,
  Streams,
  Subjects,
} from '@vreg/contracts';
import { type FillLease, MemoryFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { FakeUpstreamRegistry } from '@vreg/upstream-client/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { TokenKeyRing } from '../auth/token-key-ring.ts';
import { loadGatewayPullConfig } from '../config.ts';
import { createServer } from '../http/create-server.ts';

/**
 * The gateway wired to in-memory adapters, with a stand-in catalog answering
 * on the bus from a map that `object.stored` events fill, as the real
 * catalog does. A registry without a `visibility` is public here, so pull
 * tests need no token; access-control tests give theirs `private`. `env`
 * overrides pull settings (GatewayPullEnv), e.g. the rate limit; `overrides`
 * replaces adapters (a lease store that plays another process). `mirrors`
 * (host → registry id) is what the stand-in catalog answers for mirror
 * routing; tests may change it (mind VREG_REGISTRY_CACHE_MS).
 */
export async function gatewayHarness(
  registries: RegistryView[],
  env: Record<string, string> = {},
  overrides: { leases?: FillLease } = {},
): Promise<{
  server: FastifyInstance;
  upstream: FakeUpstreamRegistry;
  store: MemoryBlobStore;
  entries: Map<string, CacheEntryView>;
  mirrors: Map<string, string>;
  bus: MemoryEventBus;
  secrets: SecretBox;
  signingKeys: TokenKeyRing;
  /**
   * Resolves once the stand-in catalog has recorded `relativePath` (through
   * any upstream), at most `timeoutMs` later. A blob fill commits after its
   * client got the last byte: only then is the next pull a hit.
   */
  recorded(relativePath: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}> {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const bus = new MemoryEventBus({ logger });
  await bus.ensureStreams(Object.values(Streams));
  const entries = new Map<string, CacheEntryView>();
  const mirrors = new Map<string, string>();
  await bus.serve(Subjects.mirrorResolve, MirrorResolveRequestSchema, async ({ host }) => {
    const registryId = mirrors.get(host);
    return registryId === undefined ? {} : { registryId };
  });
  await bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, async ({ registryId }) => {
    const r = registries.find((x) => x.id === registryId);
    if (!r) throw new NameUnknownError('registry not found');
    return { visibility: 'public', ...r };
  });
  await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async ({ registryId, relativePath }) => {
    const r = registries.find((x) => x.id === registryId);
    for (const u of r?.upstreams ?? []) {
      const e = entries.get(`${u.id}|${relativePath}`);
      if (e) return { entry: e };
    }
    return {};
  });
  const consumer = await bus.consume(
    { stream: Streams.objects.name, consumer: 'test', subject: Subjects.objectStored, schema: ObjectStoredSchema },
    async ({ data }) => {
      entries.set(`${data.upstreamId}|${data.relativePath}`, {
        upstreamId: data.upstreamId,
        relativePath: data.relativePath,
        digest: data.digest,
        contentType: data.contentType,
        size: data.size,
        upstreamCheckedAt: data.upstreamCheckedAt,
      });
    },
  );
  const upstream = new FakeUpstreamRegistry();
  const store = new MemoryBlobStore();
  const secrets = new SecretBox(randomBytes(32));
  const signingKeys = await TokenKeyRing.fromSeeds([randomBytes(32)]);
  const app = buildApp(loadGatewayPullConfig({ VREG_SERVED_FLUSH_MS: '100000', ...env }), {
    bus,
    store,
    leases: overrides.leases ?? new MemoryFillLease(),
    upstreams: upstream,
    secrets,
    logger,
    signingKeys,
  });
  const server = createServer(logger);
  await server.register(app.routes, { prefix: '/v2' });
  await server.ready();
  return {
    server,
    upstream,
    store,
    entries,
    mirrors,
    bus,
    secrets,
    signingKeys,
    async recorded(relativePath, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (![...entries.values()].some((e) => e.relativePath === relativePath)) {
        if (Date.now() > deadline) throw new Error(`${relativePath} not recorded after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      await server.close();
      await app.stop();
      await consumer.stop();
      await bus.close();
    },
  };
}
