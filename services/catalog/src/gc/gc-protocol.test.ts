import type { MemoryBlobStore } from '@vreg/blob-store';
import type { Delivery } from '@vreg/bus';
import type { ObjectStored } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { GcInProgressError, type ObjectStoredConsumer } from '../consumers/object-stored-consumer.ts';
import { EntryDestructionWorker } from './entry-destruction-worker.ts';
import { GcSweep, type GcSweepStep } from './gc-sweep.ts';
import { allEntries, liveEntriesWithoutObject, markPending, putBlob, type RecordingRefills } from './testing/gc-fixtures.ts';
import { objectStoredDelivery, objectStoredRig } from './testing/object-stored-rig.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

/** A gate a test opens when it is ready: makes an interleaving deterministic. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

let store: MemoryCatalogStore;
let blobs: MemoryBlobStore;
let refills: RecordingRefills;
let consumer: ObjectStoredConsumer;
let registryId: string;
let upstreamId: string;
let digest: string;
let path: string;

function stored(eventId: string, checkedAt: string): Delivery<ObjectStored> {
  const data: ObjectStored = {
    eventId,
    registryId,
    upstreamId,
    relativePath: path,
    digest,
    contentType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    size: 12,
    upstreamCheckedAt: checkedAt,
    storedAt: checkedAt,
  };
  return objectStoredDelivery(data);
}

function sweepWith(onStep?: (step: GcSweepStep, digest: string) => Promise<void>): GcSweep {
  return new GcSweep({ candidates: store.gcCandidates, blobs, logger, graceMs: 0, ...(onStep ? { onStep } : {}) });
}

/** Records an entry for `digest`, then lets cleanup mark it and the destruction worker turn the digest into a candidate. */
async function digestBecomesCandidate(): Promise<void> {
  expect(await consumer.handle(stored('first-fill', '2025-01-01T00:00:00.000Z'))).toBe('inserted');
  markPending(store, (e) => e.digest === digest);
  const destroyed = await new EntryDestructionWorker({ candidates: store.gcCandidates, logger }).runOnce();
  expect(destroyed).toMatchObject({ entries: 1, candidates: 1 });
  expect(await store.gcCandidates.get(digest)).toMatchObject({ state: 'pending' });
}

beforeEach(async () => {
  ({ store, blobs, refills, consumer, registryId, upstreamId } = await objectStoredRig(logger, { name: 'a', url: 'https://a.example' }));
  digest = await putBlob(blobs, 'layer bytes!');
  path = `library/busybox/blobs/${digest}`;
});

describe('GC protocol: a sweep and a fill of the same digest, interleaved', () => {
  it('deletes an unreferenced candidate object and leaves a tombstone', async () => {
    await digestBecomesCandidate();
    expect(await sweepWith().sweep()).toMatchObject({ objects: 1, bytes: 12, digests: [digest] });
    expect(await blobs.stat(digest)).toBeUndefined();
    expect(await store.gcCandidates.get(digest)).toMatchObject({ state: 'deleted' });
  });

  it('fill recorded between claim and delete: the fill waits, the object goes, the fill is fetched again, never recorded without its object', async () => {
    await digestBecomesCandidate();
    let duringSweep: unknown;
    const sweep = sweepWith(async (step) => {
      if (step !== 'checked') return;
      // The claim is taken and the reference check passed; the delete has not run. A fill's object.stored arrives now.
      duringSweep = await consumer.handle(stored('racing-fill', '2025-01-02T00:00:00.000Z')).catch((err: unknown) => err);
      expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
    });
    await sweep.sweep();
    expect(duringSweep).toBeInstanceOf(GcInProgressError);
    expect(await blobs.stat(digest)).toBeUndefined();
    expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
    // The bus redelivers the event: the object is gone, so it is fetched again instead of recorded.
    expect(await consumer.handle(stored('racing-fill', '2025-01-02T00:00:00.000Z'))).toBe('refill_requested');
    expect(refills.requests).toEqual([
      { registryId, object: { kind: 'blob', image: 'library/busybox', reference: digest }, dedupKey: 'racing-fill' },
    ]);
    expect(allEntries(store)).toEqual([]);
    // The fetcher stores it again and publishes a new event: now it is recorded, with its object.
    await putBlob(blobs, 'layer bytes!');
    expect(await consumer.handle(stored('refill', '2025-01-03T00:00:00.000Z'))).toBe('inserted');
    expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
    expect(allEntries(store)).toHaveLength(1);
  });

  it('fill upserted after the sweep checked references (the claim came after its first look): the fill takes its entry back', async () => {
    await digestBecomesCandidate();
    const checked = gate();
    const resume = gate();
    const sweep = sweepWith(async (step) => {
      if (step !== 'checked') return;
      checked.open();
      await resume.wait;
    });
    // The consumer's first look sees `pending`; its upsert runs only once the sweep has claimed and checked.
    const realUpsert = store.cacheEntries.upsert.bind(store.cacheEntries);
    let sweeping: Promise<unknown> | undefined;
    store.cacheEntries.upsert = async (entry) => {
      sweeping = sweep.sweep();
      await checked.wait;
      return realUpsert(entry);
    };
    const handled = await consumer.handle(stored('racing-fill', '2025-01-02T00:00:00.000Z')).catch((err: unknown) => err);
    store.cacheEntries.upsert = realUpsert;
    expect(handled).toBeInstanceOf(GcInProgressError);
    // Taken back before the delete: nothing live points at the object that is about to go.
    expect(allEntries(store)).toEqual([]);
    resume.open();
    await sweeping;
    expect(await blobs.stat(digest)).toBeUndefined();
    expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
    expect(await consumer.handle(stored('racing-fill', '2025-01-02T00:00:00.000Z'))).toBe('refill_requested');
    expect(allEntries(store)).toEqual([]);
  });

  it('fill recorded before the claim: the sweep sees the reference and keeps the object', async () => {
    await digestBecomesCandidate();
    // The consumer upserts; before its second look, a sweep claims and checks.
    const realGet = store.gcCandidates.get.bind(store.gcCandidates);
    let looks = 0;
    let report: Awaited<ReturnType<GcSweep['sweep']>> | undefined;
    store.gcCandidates.get = async (d) => {
      looks += 1;
      if (looks === 2) report = await sweepWith().sweep();
      return realGet(d);
    };
    expect(await consumer.handle(stored('fill', '2025-01-02T00:00:00.000Z'))).toBe('inserted');
    store.gcCandidates.get = realGet;
    expect(report).toMatchObject({ objects: 0 });
    expect(await blobs.stat(digest)).toBeDefined();
    expect(await store.gcCandidates.get(digest)).toBeUndefined();
    expect(allEntries(store)).toMatchObject([{ digest, status: 'default' }]);
    expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
  });

  it('fill arriving after the delete but before the tombstone: waits, then is fetched again', async () => {
    await digestBecomesCandidate();
    let duringSweep: unknown;
    await sweepWith(async (step) => {
      if (step === 'deleted')
        duringSweep = await consumer.handle(stored('late-fill', '2025-01-02T00:00:00.000Z')).catch((err: unknown) => err);
    }).sweep();
    expect(duringSweep).toBeInstanceOf(GcInProgressError);
    expect(await consumer.handle(stored('late-fill', '2025-01-02T00:00:00.000Z'))).toBe('refill_requested');
    expect(await liveEntriesWithoutObject(store, blobs)).toEqual([]);
  });

  it('keeps the object of a candidate referenced again before the sweep ran', async () => {
    await digestBecomesCandidate();
    expect(await consumer.handle(stored('refill', '2025-01-02T00:00:00.000Z'))).toBe('inserted');
    expect(await sweepWith().sweep()).toMatchObject({ objects: 0 });
    expect(await blobs.stat(digest)).toBeDefined();
  });

  it('keeps an object inside its grace period and deletes it once the period is over', async () => {
    await digestBecomesCandidate();
    let now = new Date(Date.now());
    const sweep = new GcSweep({ candidates: store.gcCandidates, blobs, logger, graceMs: 3_600_000, now: () => now });
    expect(await sweep.sweep()).toMatchObject({ objects: 0 });
    expect(await blobs.stat(digest)).toBeDefined();
    now = new Date(now.getTime() + 3_600_001);
    expect(await sweep.sweep()).toMatchObject({ objects: 1 });
    expect(await blobs.stat(digest)).toBeUndefined();
  });

  it('finishes the claim of a sweep that died between claim and delete, once the claim is stale', async () => {
    await digestBecomesCandidate();
    const t0 = new Date();
    await store.gcCandidates.claim(digest, 'dead-sweep', t0, { markedBefore: t0, staleClaimBefore: new Date(0) });
    const at = (ms: number) => () => new Date(t0.getTime() + ms);
    expect(await new GcSweep({ candidates: store.gcCandidates, blobs, logger, graceMs: 0, now: at(60_000) }).sweep()).toMatchObject({
      objects: 0,
    });
    expect(await new GcSweep({ candidates: store.gcCandidates, blobs, logger, graceMs: 0, now: at(11 * 60_000) }).sweep()).toMatchObject({
      objects: 1,
    });
    expect(await store.gcCandidates.get(digest)).toMatchObject({ state: 'deleted' });
  });

  it('keeps a candidate claimed when the delete fails, reporting the error', async () => {
    await digestBecomesCandidate();
    const failing = { delete: async () => Promise.reject(new Error('S3 unavailable')) };
    const report = await new GcSweep({ candidates: store.gcCandidates, blobs: failing, logger, graceMs: 0 }).sweep();
    expect(report).toMatchObject({ objects: 0, errors: [`${digest}: S3 unavailable`] });
    expect(await store.gcCandidates.get(digest)).toMatchObject({ state: 'deleting' });
    expect(await blobs.stat(digest)).toBeDefined();
  });

  it('keeps the first 100 error messages and counts every failed delete when S3 is away', async () => {
    const past = new Date(Date.now() - 60_000);
    for (let i = 0; i < 150; i++) await store.gcCandidates.mark(`sha256:${i.toString(16).padStart(64, '0')}`, 1, past);
    const failing = { delete: async () => Promise.reject(new Error('S3 unavailable')) };
    const report = await new GcSweep({ candidates: store.gcCandidates, blobs: failing, logger, graceMs: 0 }).sweep();
    expect(report.failed).toBe(150);
    expect(report.errors).toHaveLength(100);
  });

  it('plans without changing anything: a dry run counts due candidates and pending entries no live entry references', async () => {
    const shared = await putBlob(blobs, 'shared');
    expect(await consumer.handle(stored('fill', '2025-01-01T00:00:00.000Z'))).toBe('inserted');
    const other = (await store.upstreams.create({ registryId, name: 'b', url: 'https://b.example', cacheValidityHours: 24 })).id;
    const write = { registryId, contentType: 'x', size: 6, upstreamCheckedAt: new Date('2025-01-01T00:00:00Z') };
    await store.cacheEntries.upsert({ ...write, upstreamId, relativePath: `library/busybox/blobs/${shared}`, digest: shared });
    await store.cacheEntries.upsert({ ...write, upstreamId: other, relativePath: `library/busybox/blobs/${shared}`, digest: shared });
    markPending(store, (e) => e.upstreamId === upstreamId);
    const plan = await sweepWith().plan();
    expect(plan).toEqual({ dryRun: true, objects: 1, bytes: 12, digests: [digest], errors: [], failed: 0 });
    expect(allEntries(store).filter((e) => e.status === 'pending_destruction')).toHaveLength(2);
    expect(await blobs.stat(digest)).toBeDefined();
    const withGrace = await new GcSweep({ candidates: store.gcCandidates, blobs, logger, graceMs: 60_000 }).plan();
    expect(withGrace.objects).toBe(0);
  });
});
