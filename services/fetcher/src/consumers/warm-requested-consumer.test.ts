import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryBlobStore } from '@vreg/blob-store';
import { type Delivery, MemoryEventBus } from '@vreg/bus';
import {
  type CacheEntryView,
  MediaTypes,
  NameUnknownError,
  ObjectStoredSchema,
  type RegistryView,
  Streams,
  Subjects,
  UpstreamUnavailableError,
  type WarmPlatforms,
  type WarmProgress,
  WarmProgressSchema,
  type WarmRequested,
} from '@vreg/contracts';
import { MemoryFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { FakeUpstreamRegistry } from '@vreg/upstream-client/testing';
import { describe, expect, it, vi } from 'vitest';
import type { CatalogLookup } from '../ports/catalog-lookup.ts';
import { warmRequestedHandler } from './warm-requested-consumer.ts';

const UP = 'http://upstream.test';
const IMAGE = 'library/multi';
const registry: RegistryView = { id: '1', name: 'r', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] };

interface PushedImage {
  manifest: string;
  config: string;
  layers: string[];
  bytes: number;
}

/** Pushes a one-platform image (config + two layers) to the fake upstream; returns its digests. */
function pushImage(upstream: FakeUpstreamRegistry, platform: { os: string; architecture: string; variant?: string }): PushedImage {
  const configBytes = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomUUID() }));
  const config = upstream.addBlob(UP, IMAGE, configBytes);
  const layerBytes = [randomBytes(150_000), randomBytes(1000)];
  const layers = layerBytes.map((b) => upstream.addBlob(UP, IMAGE, b));
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configBytes.length },
      layers: layers.map((digest, i) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest,
        size: layerBytes[i]!.length,
      })),
    }),
  );
  const manifest = upstream.addManifest(UP, IMAGE, `${platform.architecture}-only`, manifestBytes, MediaTypes.ociManifest);
  return { manifest, config, layers, bytes: manifestBytes.length + configBytes.length + layerBytes.reduce((n, b) => n + b.length, 0) };
}

async function setup(options: { heartbeatMs?: number } = {}) {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const bus = new MemoryEventBus({ logger });
  await bus.ensureStreams(Object.values(Streams));
  const entries = new Map<string, CacheEntryView>();
  let storedHandled = 0;
  // Plays the catalog: records every object.stored as an entry.
  await bus.consume(
    { stream: Streams.objects.name, consumer: 't', subject: Subjects.objectStored, schema: ObjectStoredSchema },
    async ({ data }) => {
      storedHandled += 1;
      entries.set(data.relativePath, {
        upstreamId: data.upstreamId,
        relativePath: data.relativePath,
        digest: data.digest,
        contentType: data.contentType,
        size: data.size,
        upstreamCheckedAt: data.upstreamCheckedAt,
      });
    },
  );
  const progress: WarmProgress[] = [];
  await bus.consume(
    { stream: Streams.warmProgress.name, consumer: 't', subject: Subjects.warmProgress, schema: WarmProgressSchema, concurrency: 1 },
    async ({ data }) => {
      progress.push(data);
    },
  );
  const catalog: CatalogLookup = {
    async resolveRegistry(id) {
      if (id === '2') return { id, name: 'no-upstreams', upstreams: [] };
      if (id !== registry.id) throw new NameUnknownError('registry not found');
      return registry;
    },
    async lookupEntry(_id, path) {
      return entries.get(path);
    },
  };
  const upstream = new FakeUpstreamRegistry();
  const amd64 = pushImage(upstream, { os: 'linux', architecture: 'amd64' });
  const arm64 = pushImage(upstream, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        {
          mediaType: MediaTypes.ociManifest,
          digest: amd64.manifest,
          size: upstream.manifests.get(`${UP}|${IMAGE}|${amd64.manifest}`)!.bytes.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MediaTypes.ociManifest,
          digest: arm64.manifest,
          size: upstream.manifests.get(`${UP}|${IMAGE}|${arm64.manifest}`)!.bytes.length,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    }),
  );
  const index = upstream.addManifest(UP, IMAGE, 'latest', indexBytes, MediaTypes.ociIndex);
  const store = new MemoryBlobStore();
  const leases = new MemoryFillLease();
  const maxDeliver = 3;
  const handler = warmRequestedHandler({
    fill: { store, upstreams: upstream, bus, secrets: new SecretBox(randomBytes(32)), logger, manifestMaxBytes: 1 << 20 },
    catalog,
    leases,
    holderId: 'fetcher-test',
    bus,
    leaseTtlMs: 5000,
    waitPollMs: 10,
    blobConcurrency: 2,
    recordWaitMs: 5000,
    maxDeliver,
    warmTimeoutMs: 10_000,
    workingEveryMs: 1000,
    progressIntervalMs: 5,
    heartbeatMs: options.heartbeatMs ?? 10_000,
  });
  const run = async (
    platforms: WarmPlatforms,
    options: { tag?: string; deliveryCount?: number; registryId?: string; jobId?: string } = {},
  ) => {
    const data: WarmRequested = {
      eventId: randomUUID(),
      jobId: options.jobId ?? 'j1',
      registryId: options.registryId ?? '1',
      image: IMAGE,
      tag: options.tag ?? 'latest',
      platforms,
      requestedAt: new Date().toISOString(),
    };
    const delivery: Delivery<WarmRequested> = {
      subject: Subjects.warmRequested,
      data,
      deliveryCount: options.deliveryCount ?? 1,
      headers: {},
      working: () => undefined,
    };
    await handler(delivery);
  };
  /**
   * Until both consumers above have handled every event published so far:
   * they run asynchronously, and a fixed pause is not enough on a busy machine
   * (an expired timer runs before the bus's queued deliveries).
   */
  const settle = () =>
    vi.waitFor(
      () => {
        expect(storedHandled).toBe(bus.streamSize(Streams.objects.name));
        expect(progress.length).toBe(bus.streamSize(Streams.warmProgress.name));
      },
      { timeout: 10_000, interval: 5 },
    );
  const last = () => progress[progress.length - 1]!;
  return { bus, upstream, store, leases, entries, progress, run, settle, last, amd64, arm64, index, indexBytes, maxDeliver };
}

describe('the warm.requested handler', () => {
  it('warms every platform of an index, recording the paths a pull records, and reports exact progress', async () => {
    const s = await setup();
    await s.run('all');
    await s.settle();
    const expected = [`${IMAGE}/manifests/latest`, `${IMAGE}/manifests/${s.index}`];
    for (const img of [s.amd64, s.arm64]) {
      expected.push(`${IMAGE}/manifests/${img.manifest}`, `${IMAGE}/blobs/${img.config}`, ...img.layers.map((l) => `${IMAGE}/blobs/${l}`));
    }
    expect([...s.entries.keys()].sort()).toEqual(expected.sort());
    for (const e of s.entries.values()) expect(await s.store.stat(e.digest)).toEqual({ size: e.size });
    const end = s.last();
    expect(end.state).toBe('succeeded');
    expect(end.objectsTotal).toBe(9);
    expect(end.objectsDone).toBe(9);
    expect(end.bytesTotal).toBe(s.indexBytes.length + s.amd64.bytes + s.arm64.bytes);
    expect(end.bytesDone).toBe(end.bytesTotal);
    expect(end.errors).toEqual([]);
    expect(end.result).toMatchObject({
      digest: s.index,
      mediaType: MediaTypes.ociIndex,
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      manifests: 3,
      blobs: 6,
      objectsDownloaded: 9,
      objectsAlreadyCached: 0,
    });
    expect(s.progress[0]!.state).toBe('running');
    // Snapshots never go backwards.
    for (let i = 1; i < s.progress.length; i++) expect(s.progress[i]!.objectsDone).toBeGreaterThanOrEqual(s.progress[i - 1]!.objectsDone);
  });

  it("warms only the listed platform: the other platform's manifest and blobs are never fetched", async () => {
    const s = await setup();
    await s.run(['linux/arm64/v8']);
    await s.settle();
    expect(s.last()).toMatchObject({ state: 'succeeded', objectsDone: 5, objectsTotal: 5 });
    expect(s.last().result?.platforms).toEqual(['linux/arm64/v8']);
    for (const digest of [s.amd64.manifest, s.amd64.config, ...s.amd64.layers]) {
      expect(s.upstream.calls.filter((c) => c.includes(digest))).toEqual([]);
      expect(await s.store.stat(digest)).toBeUndefined();
    }
    for (const digest of [s.arm64.config, ...s.arm64.layers]) expect(s.entries.has(`${IMAGE}/blobs/${digest}`)).toBe(true);
  });

  it('fails the job at once, listing the available platforms, when a platform is not in the index', async () => {
    const s = await setup();
    await s.run(['linux/s390x']);
    await s.settle();
    expect(s.last().state).toBe('failed');
    expect(s.last().errors.join('\n')).toContain('platform linux/s390x not in the index; available: linux/amd64, linux/arm64/v8');
    expect(s.upstream.calls.filter((c) => c.startsWith('GET blob'))).toEqual([]);
  });

  it('fails the job with the reason for an unknown tag, a registry without upstreams or a deleted registry, without retrying', async () => {
    const s = await setup();
    await s.run('all', { tag: 'nope' });
    await s.settle();
    expect(s.last().state).toBe('failed');
    expect(s.last().errors.join('\n')).toMatch(/library\/multi:nope: manifest unknown .*\(MANIFEST_UNKNOWN\)/);
    await s.run('all', { registryId: '2', jobId: 'j3' });
    await s.settle();
    expect(s.last()).toMatchObject({
      jobId: 'j3',
      state: 'failed',
      errors: [expect.stringContaining('the registry has no upstream to warm from')],
    });
    await s.run('all', { registryId: '99', jobId: 'j2' });
    await s.settle();
    expect(s.last()).toMatchObject({ jobId: 'j2', state: 'failed' });
    expect(s.last().errors.join('\n')).toContain('NAME_UNKNOWN');
  });

  it('downloads nothing on redelivery: the tag is checked with a HEAD, stored objects are only recorded', async () => {
    const s = await setup();
    await s.run('all');
    await s.settle();
    const before = s.upstream.calls.length;
    await s.run('all', { deliveryCount: 2 });
    await s.settle();
    expect(s.upstream.calls.slice(before)).toEqual([`HEAD manifest ${IMAGE}:latest`]);
    expect(s.last()).toMatchObject({ state: 'succeeded', objectsDone: 9, objectsTotal: 9 });
    expect(s.last().result).toMatchObject({ objectsDownloaded: 0, objectsAlreadyCached: 9 });
  });

  it('records manifests and blobs the store already holds (through another registry) after a HEAD each, without downloading them', async () => {
    const s = await setup();
    await s.run(['linux/amd64']);
    await s.settle();
    s.entries.clear(); // a second registry: its own entries, the same store
    const before = s.upstream.calls.length;
    await s.run(['linux/amd64'], { jobId: 'j2' });
    await s.settle();
    const calls = s.upstream.calls.slice(before);
    expect(calls.filter((c) => c.startsWith('GET'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('HEAD blob')).length).toBe(3);
    expect(calls.filter((c) => c.startsWith('HEAD manifest')).sort()).toEqual(
      [`HEAD manifest ${IMAGE}:latest`, `HEAD manifest ${IMAGE}:${s.amd64.manifest}`].sort(),
    );
    expect([...s.entries.keys()].sort()).toEqual(
      [
        `${IMAGE}/manifests/latest`,
        `${IMAGE}/manifests/${s.index}`,
        `${IMAGE}/manifests/${s.amd64.manifest}`,
        `${IMAGE}/blobs/${s.amd64.config}`,
        ...s.amd64.layers.map((l) => `${IMAGE}/blobs/${l}`),
      ].sort(),
    );
    expect(s.last().result).toMatchObject({ objectsDownloaded: 0, objectsAlreadyCached: 5 });
  });

  it('waits for a fill another process holds the lease of, then records its result instead of downloading', async () => {
    const s = await setup();
    const layer = s.arm64.layers[0]!;
    const lease = await s.leases.acquire(`blob/${layer}`, 5000, 'gateway-1');
    const warming = s.run(['linux/arm64/v8']);
    // Everything else is warmed; the leased layer is what it waits for, not downloading it.
    await vi.waitFor(() => expect(s.progress.at(-1)).toMatchObject({ state: 'running', objectsDone: 4, objectsTotal: 5 }), {
      timeout: 10_000,
      interval: 5,
    });
    expect(s.upstream.count(`GET blob ${layer}`)).toBe(0);
    // The gateway's fill commits, then releases its lease.
    const body = await s.upstream.getBlob({ url: UP }, IMAGE, layer);
    const writer = await s.store.beginWrite(layer);
    for await (const chunk of body!.body) writer.stream.write(chunk);
    await writer.commit();
    await lease!.release();
    await warming;
    await s.settle();
    expect(s.last().state).toBe('succeeded');
    expect(s.upstream.count(`GET blob ${layer}`)).toBe(1); // the "gateway's" download only
  });

  it('reports a failure that may pass and retries; the last delivery fails the job', async () => {
    const s = await setup();
    s.upstream.failWith = new UpstreamUnavailableError('upstream down');
    await expect(s.run('all')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await s.settle();
    expect(s.last().state).toBe('running');
    expect(s.last().errors.join('\n')).toContain('UPSTREAM_UNAVAILABLE');
    await s.run('all', { deliveryCount: s.maxDeliver });
    await s.settle();
    expect(s.last().state).toBe('failed');
  });

  it('checks a single-platform image against the listed platforms with its config', async () => {
    const s = await setup();
    const single = s.upstream.manifests.get(`${UP}|${IMAGE}|${s.amd64.manifest}`)!;
    s.upstream.addManifest(UP, IMAGE, 'single', single.bytes, single.contentType);
    await s.run(['linux/arm64'], { tag: 'single' });
    await s.settle();
    expect(s.last().state).toBe('failed');
    expect(s.last().errors.join('\n')).toContain('library/multi:single is a single-platform image for linux/amd64');
    expect(s.upstream.calls.filter((c) => c.startsWith('GET blob') && !c.includes(s.amd64.config))).toEqual([]);
    await s.run(['linux/amd64'], { tag: 'single', jobId: 'j2' });
    await s.settle();
    expect(s.last()).toMatchObject({ jobId: 'j2', state: 'succeeded', objectsDone: 4, objectsTotal: 4 });
    expect(s.last().result).toMatchObject({ platforms: ['linux/amd64'], manifests: 1, blobs: 3 });
  });

  it('fails the job listing each blob no upstream has, after warming the others', async () => {
    const s = await setup();
    const missing = s.arm64.layers[1]!;
    s.upstream.blobs.delete(`${UP}|${IMAGE}|${missing}`);
    await s.run(['linux/arm64/v8']);
    await s.settle();
    expect(s.last().state).toBe('failed');
    expect(s.last().errors[0]).toContain(`blob ${missing}: blob unknown to every upstream of this registry (BLOB_UNKNOWN)`);
    expect(s.last().errors[1]).toContain('1 blob of library/multi:latest could not be warmed');
    expect(s.entries.has(`${IMAGE}/blobs/${s.arm64.layers[0]}`)).toBe(true);
  });

  it('keeps reporting on its heartbeat while a slow layer streams, with bytes done moving as the bytes arrive, and stops at the end', async () => {
    const s = await setup({ heartbeatMs: 40 });
    // 64 KiB chunks 400 ms apart: without a heartbeat nothing would change for that long.
    s.upstream.chunkDelayMs = 400;
    await s.run(['linux/amd64']);
    await s.settle();
    expect(s.last().state).toBe('succeeded');
    const running = s.progress.filter((p) => p.state === 'running');
    // Only the heartbeat publishes a snapshot that changes nothing. A 40 ms timer fires before the next chunk's 400 ms one
    // however late a busy machine runs them, so each pause between chunks has one: counted, not timed.
    const same = (a: WarmProgress, b: WarmProgress) =>
      a.objectsDone === b.objectsDone &&
      a.bytesDone === b.bytesDone &&
      a.objectsTotal === b.objectsTotal &&
      a.errors.length === b.errors.length;
    expect(running.slice(1).filter((p, i) => same(p, running[i]!)).length).toBeGreaterThanOrEqual(2);
    // Some snapshot counted part of a layer: bytes done moved while objects done stood still.
    // Part of the 150 000-byte layer counted while it was the only object left: bytes done moved before the layer was stored.
    const total = s.last().bytesTotal!;
    const partial = running.some(
      (p) => p.objectsTotal !== undefined && p.objectsDone === p.objectsTotal - 1 && p.bytesDone > total - 150_000 && p.bytesDone < total,
    );
    expect(partial).toBe(true);
    for (let i = 1; i < running.length; i++) expect(running[i]!.bytesDone).toBeLessThanOrEqual(s.last().bytesTotal!);
    // Stopped: nothing is published for many heartbeats after the end (a wait that a slow machine can only lengthen).
    const published = s.bus.streamSize(Streams.warmProgress.name);
    await new Promise((r) => setTimeout(r, 400));
    expect(s.bus.streamSize(Streams.warmProgress.name)).toBe(published);
  });

  it('stops its heartbeat when an attempt fails and will be retried', async () => {
    const s = await setup({ heartbeatMs: 20 });
    s.upstream.failWith = new UpstreamUnavailableError('upstream down');
    await expect(s.run('all')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const published = s.bus.streamSize(Streams.warmProgress.name);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.bus.streamSize(Streams.warmProgress.name)).toBe(published);
  });
});
