import { createHash } from 'node:crypto';
import type { BlobWriter } from '@vreg/blob-store';
import { type RegistryView, relativePathOf } from '@vreg/contracts';
import type { FillLease } from '@vreg/fill-lease';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const registries = [
  { id: '1', name: 'one', visibility: 'public', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
] as RegistryView[];
const base = '/v2/virtual_registries/containers/1/library/x/manifests';
const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');

/** Polls `check` until it holds, for at most 10 s (a loaded machine is slow, never wrong). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Makes the store's commits wait until `release()`; `started()` counts the commits begun. */
function holdCommits(h: { store: Awaited<ReturnType<typeof gatewayHarness>>['store'] }): { started: () => number; release: () => void } {
  let release!: () => void;
  const allowed = new Promise<void>((r) => {
    release = r;
  });
  let started = 0;
  const beginWrite = h.store.beginWrite.bind(h.store);
  h.store.beginWrite = async (d, opts) => {
    const writer = await beginWrite(d, opts);
    const commit = writer.commit.bind(writer);
    return Object.assign(writer, {
      commit: async (options?: Parameters<BlobWriter['commit']>[0]) => {
        started += 1;
        await allowed;
        return commit(options);
      },
    });
  };
  return { started: () => started, release };
}

describe('a manifest miss', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('is answered once the upstream bytes are verified, before the store commits; a request by its digest meanwhile joins the fill', async () => {
    h = await gatewayHarness(registries);
    const digest = h.upstream.addManifest(UP, 'library/x', 'latest', MANIFEST, OCI_MANIFEST);
    // The store's commit waits until the test lets it go.
    const commits = holdCommits(h);

    const byTag = await h.server.inject({ method: 'GET', url: `${base}/latest` });
    expect(byTag.statusCode).toBe(200);
    expect(byTag.headers['docker-content-digest']).toBe(digest);
    expect(byTag.rawPayload.equals(MANIFEST)).toBe(true);
    await eventually(async () => commits.started() === 1);
    expect(await h.store.stat(digest)).toBeUndefined();

    const byDigest = await h.server.inject({ method: 'GET', url: `${base}/${digest}` });
    expect(byDigest.statusCode).toBe(200);
    expect(byDigest.rawPayload.equals(MANIFEST)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);

    commits.release();
    await eventually(async () => (await h.store.stat(digest)) !== undefined);
    await eventually(async () => (await h.server.inject({ method: 'GET', url: `${base}/latest` })).headers['x-vreg-cache'] === 'hit');
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('is stored before the gateway stops: stopping waits for the store behind a miss already answered', async () => {
    h = await gatewayHarness(registries);
    const digest = h.upstream.addManifest(UP, 'library/x', 'latest', MANIFEST, OCI_MANIFEST);
    const commits = holdCommits(h);
    expect((await h.server.inject({ method: 'GET', url: `${base}/latest` })).statusCode).toBe(200);
    await eventually(async () => commits.started() === 1);

    const harness = h;
    h = undefined as unknown as typeof h;
    let closed = false;
    const closing = harness.close().then(() => {
      closed = true;
    });
    // A negative check: a slow machine only makes the stop later still.
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    commits.release();
    await closing;
    expect(await harness.store.stat(digest)).toBeDefined();
  });

  it('whose store fails still gets the verified bytes; the next request fills it again and stores it', async () => {
    h = await gatewayHarness(registries);
    const digest = h.upstream.addManifest(UP, 'library/x', 'latest', MANIFEST, OCI_MANIFEST);
    const beginWrite = h.store.beginWrite.bind(h.store);
    let failures = 1;
    h.store.beginWrite = async (d, opts) => {
      if (failures-- > 0) throw Object.assign(new Error('disk full'), { code: 'BLOB_STORE_UNAVAILABLE' });
      return beginWrite(d, opts);
    };

    const first = await h.server.inject({ method: 'GET', url: `${base}/latest` });
    expect(first.statusCode).toBe(200);
    expect(first.rawPayload.equals(MANIFEST)).toBe(true);
    // Once that fill is over (nothing stored, nothing recorded), a request goes upstream again and this time stores it.
    await eventually(async () => {
      const res = await h.server.inject({ method: 'GET', url: `${base}/latest` });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(MANIFEST)).toBe(true);
      return (await h.store.stat(digest)) !== undefined;
    });
    expect(h.upstream.count('GET manifest')).toBe(2);
  });

  it('that the upstream does not have fails every request that joined it, and is remembered', async () => {
    h = await gatewayHarness(registries);
    const [a, b] = await Promise.all([
      h.server.inject({ method: 'GET', url: `${base}/missing` }),
      h.server.inject({ method: 'GET', url: `${base}/missing` }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([404, 404]);
    expect((await h.server.inject({ method: 'GET', url: `${base}/missing` })).statusCode).toBe(404);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });
});

describe('a manifest miss while another process holds its lease', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>> | undefined;
  afterEach(async () => h?.close());

  /** A lease store in which another process holds every manifest until `letGo()`; `looks` counts the waiter's looks at the holder. */
  function heldElsewhere(): FillLease & { letGo: () => void; looks: () => number } {
    let holder: string | undefined = 'other-gateway';
    let looks = 0;
    return {
      acquire: async () => undefined,
      holderOf: async () => {
        looks += 1;
        return holder;
      },
      letGo: () => (holder = undefined),
      looks: () => looks,
    };
  }

  /** Until the request is waiting on the holder (it looked twice), however slow the machine. */
  async function waiting(leases: { looks: () => number }): Promise<void> {
    await eventually(async () => leases.looks() >= 2);
  }

  /** What the other process's fill leaves behind: the bytes in the store, the tag's record in the catalog. */
  async function recordAsTheOtherProcess(bytes: Buffer, digest: string, upstreamCheckedAt: string): Promise<void> {
    const writer = await h!.store.beginWrite(digest);
    writer.stream.end(bytes);
    await writer.commit();
    const relativePath = relativePathOf({ kind: 'manifest', image: 'library/x', reference: 'v1' });
    h!.entries.set(`10|${relativePath}`, {
      upstreamId: '10',
      relativePath,
      digest,
      contentType: OCI_MANIFEST,
      size: bytes.length,
      upstreamCheckedAt,
    });
  }

  it('waits for that fill to be recorded and serves it: the upstream is asked once, by the holder, not once per process', async () => {
    const leases = heldElsewhere();
    h = await gatewayHarness(registries, {}, { leases });
    const digest = h.upstream.addManifest(UP, 'library/x', 'v1', MANIFEST, OCI_MANIFEST);
    const pending = h.server.inject({ method: 'GET', url: `${base}/v1`, headers: { accept: OCI_MANIFEST } });
    await waiting(leases);
    expect(h.upstream.count('GET manifest')).toBe(0);
    await recordAsTheOtherProcess(MANIFEST, digest, new Date().toISOString());
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(MANIFEST)).toBe(true);
    expect(res.headers['docker-content-digest']).toBe(digest);
    expect(h.upstream.count('GET manifest')).toBe(0);
  });

  it('asks the upstream itself once the holder let go without a record (its fill failed)', async () => {
    const leases = heldElsewhere();
    h = await gatewayHarness(registries, {}, { leases });
    h.upstream.addManifest(UP, 'library/x', 'v1', MANIFEST, OCI_MANIFEST);
    const pending = h.server.inject({ method: 'GET', url: `${base}/v1`, headers: { accept: OCI_MANIFEST } });
    await waiting(leases);
    expect(h.upstream.count('GET manifest')).toBe(0);
    leases.letGo();
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(MANIFEST)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('asks the upstream itself after 3 s when the holder neither records it nor lets go (it died; its lease outlives it)', async () => {
    h = await gatewayHarness(registries, {}, { leases: heldElsewhere() });
    h.upstream.addManifest(UP, 'library/x', 'v1', MANIFEST, OCI_MANIFEST);
    const started = Date.now();
    const res = await h.server.inject({ method: 'GET', url: `${base}/v1`, headers: { accept: OCI_MANIFEST } });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(MANIFEST)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });

  it("refilling a tag that moved never takes the record it already had for the other process's answer", async () => {
    const leases = heldElsewhere();
    h = await gatewayHarness(registries, {}, { leases });
    const old = Buffer.from(MANIFEST.toString().replace('"layers":[]', '"layers":[],"annotations":{"v":"old"}'));
    const oldDigest = `sha256:${createHash('sha256').update(old).digest('hex')}`;
    // Recorded a day and more ago: past the upstream's 24 h validity, so the tag is revalidated, and it moved.
    await recordAsTheOtherProcess(old, oldDigest, new Date(Date.now() - 25 * 3_600_000).toISOString());
    const digest = h.upstream.addManifest(UP, 'library/x', 'v1', MANIFEST, OCI_MANIFEST);
    const pending = h.server.inject({ method: 'GET', url: `${base}/v1`, headers: { accept: OCI_MANIFEST } });
    await waiting(leases);
    leases.letGo();
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(digest);
    expect(res.rawPayload.equals(MANIFEST)).toBe(true);
    expect(h.upstream.count('GET manifest')).toBe(1);
  });
});
