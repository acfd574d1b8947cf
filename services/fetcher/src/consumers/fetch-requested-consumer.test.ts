import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { type Delivery, MemoryEventBus } from '@vreg/bus';
import {
  type CacheEntryView,
  type FetchRequested,
  isRetryLater,
  NameUnknownError,
  type ObjectStored,
  ObjectStoredSchema,
  type RegistryView,
  Streams,
  Subjects,
} from '@vreg/contracts';
import { LocalFillSlots } from '@vreg/fill';
import { MemoryFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { FakeUpstreamRegistry } from '@vreg/upstream-client/testing';
import { describe, expect, it, vi } from 'vitest';
import type { CatalogLookup } from '../ports/catalog-lookup.ts';
import { FillInProgressError, fetchRequestedHandler } from './fetch-requested-consumer.ts';

const UP = 'http://upstream.test';
const registry: RegistryView = { id: '1', name: 'r', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] };

/** How long an event may take to reach the test's consumer on a busy machine. */
const WAIT = { timeout: 10_000, interval: 5 };

async function setup() {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const bus = new MemoryEventBus({ logger });
  await bus.ensureStreams(Object.values(Streams));
  const stored: ObjectStored[] = [];
  await bus.consume(
    { stream: Streams.objects.name, consumer: 't', subject: Subjects.objectStored, schema: ObjectStoredSchema },
    async ({ data }) => {
      stored.push(data);
    },
  );
  const entries = new Map<string, CacheEntryView>();
  let registryLookups = 0;
  const catalog: CatalogLookup = {
    async resolveRegistry(id) {
      registryLookups++;
      if (id !== registry.id) throw new NameUnknownError('registry not found');
      return registry;
    },
    async lookupEntry(_id, path) {
      return entries.get(path);
    },
  };
  const upstream = new FakeUpstreamRegistry();
  const store = new MemoryBlobStore();
  const leases = new MemoryFillLease();
  const slots = new LocalFillSlots(1);
  const handler = fetchRequestedHandler({
    fill: { store, upstreams: upstream, bus, secrets: new SecretBox(randomBytes(32)), logger, manifestMaxBytes: 1 << 20 },
    catalog,
    leases,
    holderId: 'fetcher-test',
    leaseTtlMs: 5000,
    fillTimeoutMs: 10_000,
    slots,
  });
  return { bus, stored, entries, upstream, store, leases, slots, handler, registryLookups: () => registryLookups };
}

const delivery = (data: FetchRequested): Delivery<FetchRequested> => ({
  subject: Subjects.fetchRequested,
  data,
  deliveryCount: 1,
  headers: {},
  working: () => undefined,
});
const request = (kind: 'manifest' | 'blob', image: string, reference: string, registryId = '1'): FetchRequested => ({
  eventId: randomUUID(),
  registryId,
  object: { kind, image, reference },
  requestedAt: new Date().toISOString(),
});

describe('the fetch.requested handler', () => {
  it('fills an abandoned blob: stores it verified and announces it', async () => {
    const s = await setup();
    const blob = randomBytes(200_000);
    const digest = s.upstream.addBlob(UP, 'library/x', blob);
    await s.handler(delivery(request('blob', 'library/x', digest)));
    expect(await s.store.stat(digest)).toEqual({ size: blob.length });
    // object.stored reaches the test's consumer asynchronously.
    await vi.waitFor(() => expect(s.stored.map((e) => e.relativePath)).toEqual([`library/x/blobs/${digest}`]), WAIT);
  });

  it('only checks when the object is already recorded', async () => {
    const s = await setup();
    const digest = s.upstream.addBlob(UP, 'library/x', randomBytes(10));
    s.entries.set(`library/x/blobs/${digest}`, {
      upstreamId: '10',
      relativePath: `library/x/blobs/${digest}`,
      digest,
      contentType: 'x',
      size: 10,
      upstreamCheckedAt: new Date().toISOString(),
    });
    await s.handler(delivery(request('blob', 'library/x', digest)));
    expect(s.upstream.calls).toEqual([]);
    // The registry's upstreams are for a fill: a request that ends at the check does not ask for them.
    expect(s.registryLookups()).toBe(0);
  });

  it('backs off while another filler holds the lease', async () => {
    const s = await setup();
    const digest = s.upstream.addBlob(UP, 'library/x', randomBytes(10));
    await s.leases.acquire(`blob/${digest}`, 5000, 'gateway-1');
    await expect(s.handler(delivery(request('blob', 'library/x', digest)))).rejects.toBeInstanceOf(FillInProgressError);
    expect(s.upstream.calls).toEqual([]);
    expect(s.registryLookups()).toBe(0);
  });

  it("backs off without asking the upstream while its fills are at this process's limit, then fills once one ended", async () => {
    const s = await setup();
    const blob = randomBytes(1000);
    const digest = s.upstream.addBlob(UP, 'library/x', blob);
    const running = s.slots.tryAcquire('10');
    const refused = await s.handler(delivery(request('blob', 'library/x', digest))).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'UPSTREAM_BUSY' });
    // A "not yet": the bus naks it with backoff and logs it at debug, not as a failure.
    expect(isRetryLater(refused)).toBe(true);
    expect(s.upstream.calls).toEqual([]);
    expect(await s.leases.holderOf(`blob/${digest}`)).toBeUndefined();
    running?.release();
    await s.handler(delivery(request('blob', 'library/x', digest)));
    expect(await s.store.stat(digest)).toEqual({ size: blob.length });
    expect(s.slots.running('10')).toBe(0);
  });

  it('fills a manifest by tag, recording the tag and the digest', async () => {
    const s = await setup();
    const digest = s.upstream.addManifest(
      UP,
      'library/x',
      'latest',
      Buffer.from('{"schemaVersion":2}'),
      'application/vnd.oci.image.manifest.v1+json',
    );
    await s.handler(delivery(request('manifest', 'library/x', 'latest')));
    await vi.waitFor(
      () =>
        expect(s.stored.map((e) => e.relativePath).sort()).toEqual(['library/x/manifests/latest', `library/x/manifests/${digest}`].sort()),
      WAIT,
    );
  });

  it('drops a request for an object no upstream has, and for a deleted registry', async () => {
    const s = await setup();
    await expect(s.handler(delivery(request('manifest', 'library/none', 'latest')))).resolves.toBeUndefined();
    await expect(s.handler(delivery(request('manifest', 'library/x', 'latest', '99')))).resolves.toBeUndefined();
  });

  it('does not store wrong bytes and leaves the request to be retried', async () => {
    const s = await setup();
    const good = randomBytes(1000);
    const digest = s.upstream.addBlob(UP, 'library/x', good, Buffer.alloc(1000));
    await expect(s.handler(delivery(request('blob', 'library/x', digest)))).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    expect(await s.store.stat(digest)).toBeUndefined();
    expect(s.stored).toEqual([]);
  });
});
