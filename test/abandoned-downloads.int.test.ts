import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { goodPlan, type HostileObject, type HostilePlan, HostileUpstream } from './support/hostile-upstream.ts';
import { getAndHangUp, type RawResponse, rawGet, sha256 } from './support/http-get.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';
import { waitFor } from './support/wait.ts';

// Abandoned downloads: a blob fill outlives the client that started it (the
// next pull must find the blob), so an anonymous client of a public registry
// could start many slow downloads and hang up. Each upstream gets at most
// VREG_UPSTREAM_MAX_CONCURRENT_FILLS fills per process; past it a miss is 503
// UNAVAILABLE with Retry-After. The upstream is the test's own and trickles
// (a byte every 100 ms: never silent long enough for the body idle timeout).

const SOURCE = 'test/abandoned-downloads.int.test.ts';
const trickle: HostilePlan = { ...goodPlan(), body: { kind: 'trickle' } };

function blob(size = 64 << 10): HostileObject {
  const bytes = randomBytes(size);
  return { kind: 'blob', bytes, digest: sha256(bytes), mediaType: 'application/octet-stream' };
}

interface Setup {
  vreg: VregUnderTest;
  upstream: HostileUpstream;
  /** Registers a case on the upstream and gives the URL a client pulls its blob at. */
  blobUrl(plan: HostilePlan, object: HostileObject): string;
}

let cases = 0;

async function setUp(vreg: VregUnderTest, upstream: HostileUpstream): Promise<Setup> {
  const { id } = await vreg.admin.createRegistry(`abandoned-${randomBytes(3).toString('hex')}`, { visibility: 'public' });
  await vreg.admin.addUpstream(id, { name: 'trickling', url: upstream.url });
  return {
    vreg,
    upstream,
    blobUrl(plan, object) {
      const repo = upstream.addCase(++cases, plan, object);
      return `${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/${repo}/blobs/${object.digest}`;
    },
  };
}

/** A miss refused for want of a fill slot: 503, OCI code UNAVAILABLE naming the setting, a Retry-After in seconds. */
async function expectBusy(url: string): Promise<void> {
  const res = await rawGet(url);
  expect(res.status, res.body.toString()).toBe(503);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const error = (JSON.parse(res.body.toString()) as { errors: Array<{ code: string; message: string }> }).errors[0];
  expect(error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('VREG_UPSTREAM_MAX_CONCURRENT_FILLS') });
}

/**
 * Waits until `digest` is in the store: a client has a blob's last bytes once
 * they are verified, a little before the commit, and a vreg stopped between
 * the two would leave its data directory changing under the test's clean-up.
 */
async function untilStored(vreg: VregUnderTest, digest: string): Promise<void> {
  await waitFor(`${digest} to be stored`, async () => ((await vreg.storedDigests()).includes(digest) ? true : undefined), 60_000);
}

/** A GET whose connection vreg may cut before, or after, the headers: cut either way is `{ cut: true }`. */
async function getOrCut(url: string): Promise<RawResponse | { cut: true }> {
  try {
    return await rawGet(url);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || /socket hang up/.test((err as Error).message)) return { cut: true };
    throw err;
  }
}

/** Blob requests the upstream received for `object`. */
const upstreamGets = (upstream: HostileUpstream, object: HostileObject): number =>
  upstream.requests.filter((path) => path.endsWith(`/blobs/${object.digest}`)).length;

/**
 * Clients start `limit` trickling blob downloads and hang up after the first
 * bytes; the fills go on (the upstream keeps sending to vreg); every further
 * miss of that upstream is refused without asking it; once the trickles end,
 * the abandoned blobs are stored and the refused one is served.
 */
async function abandonUpToTheLimit(s: Setup, limit: number, tally: { tried(n?: number): void }): Promise<void> {
  const abandoned = Array.from({ length: limit }, () => blob());
  for (const object of abandoned) {
    const started = await getAndHangUp(s.blobUrl(trickle, object), 512);
    expect(started.status).toBe(200);
    tally.tried();
  }
  // Still dripping into vreg a second after the last client left: the fills outlive their clients.
  const dripped = s.upstream.trickledBytes;
  await waitFor('the upstream to keep sending to the abandoned fills', async () =>
    s.upstream.trickledBytes >= dripped + 10 * limit ? true : undefined,
  );
  expect(s.upstream.trickling).toBe(limit);
  expect(s.upstream.tricklesCut).toBe(0);

  const refused = Array.from({ length: 5 }, () => blob(4096));
  const urls = refused.map((object) => s.blobUrl(goodPlan(), object));
  for (const url of urls) {
    await expectBusy(url);
    tally.tried();
  }
  for (const object of refused) expect(upstreamGets(s.upstream, object)).toBe(0);

  s.upstream.endTrickles();
  await waitFor(
    'the abandoned blobs to be stored',
    async () => {
      const stored = await s.vreg.storedDigests();
      return abandoned.every((o) => stored.includes(o.digest)) ? true : undefined;
    },
    60_000,
  );
  const served = await waitFor(
    'a refused blob to be served once the fills ended',
    async () => {
      const res = await rawGet(urls[0] as string);
      return res.status === 200 ? res : undefined;
    },
    60_000,
    250,
  );
  expect(served.truncated).toBe(false);
  expect(sha256(served.body)).toBe(refused[0]?.digest);
  await untilStored(s.vreg, refused[0]?.digest as string);
}

describe('abandoned downloads (embedded vreg, a trickling upstream of the test’s own)', () => {
  let vreg: VregUnderTest | undefined;
  let upstream: HostileUpstream | undefined;
  afterEach(async () => {
    await vreg?.stop();
    await upstream?.stop();
    vreg = undefined;
    upstream = undefined;
  });

  it('keeps abandoned fills running, refuses further misses of their upstream with 503 and Retry-After, and serves them once the fills ended', async () => {
    const tally = recordAttacks(
      AttackClasses.abandonedDownloads,
      'clients start as many trickling blob downloads as the per-upstream fill limit allows and hang up, then ask for more (embedded)',
      SOURCE,
    );
    upstream = new HostileUpstream();
    await upstream.start();
    vreg = await startEmbeddedUnderTest({ VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '2' });
    await abandonUpToTheLimit(await setUp(vreg, upstream), 2, tally);
  });

  it('ends a fill that never finishes at VREG_FILL_TIMEOUT_MS, stores nothing of it, and frees its slot', async () => {
    const tally = recordAttacks(
      AttackClasses.abandonedDownloads,
      'a client starts a blob download that trickles for ever and hangs up, then asks for another blob (embedded)',
      SOURCE,
    );
    upstream = new HostileUpstream();
    await upstream.start();
    vreg = await startEmbeddedUnderTest({ VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '1', VREG_FILL_TIMEOUT_MS: '4000' });
    const s = await setUp(vreg, upstream);
    const endless = blob();
    expect((await getAndHangUp(s.blobUrl(trickle, endless), 512)).status).toBe(200);
    tally.tried();
    const next = blob(4096);
    const url = s.blobUrl(goodPlan(), next);
    await expectBusy(url);
    tally.tried();
    // vreg, not the upstream, ends the trickle: the fill's deadline passed.
    await waitFor('vreg to cut the trickling fill at its deadline', async () => (upstream!.tricklesCut >= 1 ? true : undefined), 60_000);
    // The fetcher may take the abandoned fill over (again bounded by the deadline, and holding the
    // one slot meanwhile): the next blob is served in a moment the slot is free.
    const served = await waitFor(
      'the other blob to be served once the slot is free',
      async () => {
        const res = await rawGet(url);
        return res.status === 200 ? res : undefined;
      },
      90_000,
      250,
    );
    expect(sha256(served.body)).toBe(next.digest);
    await untilStored(vreg, next.digest);
    expect(await vreg.storedDigests()).not.toContain(endless.digest);
  }, 180_000);

  it('refuses a blob past VREG_UPSTREAM_MAX_BLOB_BYTES with 403 DENIED when the upstream declares it, cuts an endless one at the limit, and stores neither', async () => {
    const tally = recordAttacks(
      AttackClasses.hostileUpstream,
      'an upstream declares a blob past the default size limit, or sends an endless body without a length (embedded)',
      SOURCE,
    );
    upstream = new HostileUpstream();
    await upstream.start();
    vreg = await startEmbeddedUnderTest({ VREG_UPSTREAM_MAX_BLOB_BYTES: String(64 << 10) });
    const s = await setUp(vreg, upstream);

    const big = blob((64 << 10) + 1);
    const declared = await rawGet(s.blobUrl(goodPlan(), big));
    tally.tried();
    expect(declared.status).toBe(403);
    const error = (JSON.parse(declared.body.toString()) as { errors: Array<{ code: string; message: string }> }).errors[0];
    expect(error).toMatchObject({ code: 'DENIED', message: expect.stringContaining(`limit of ${64 << 10} bytes`) });

    const endless = blob(4096);
    const cut = await getOrCut(s.blobUrl({ ...goodPlan(), body: { kind: 'endless' }, lengthHeader: 'none' }, endless));
    tally.tried();
    // Without a length: 403 DENIED when the limit passes before the answer's first byte went out;
    // once bytes are under way the only honest end is a cut connection, never a whole answer.
    if (!('cut' in cut) && cut.status === 200) {
      expect(cut.truncated).toBe(true);
      expect(cut.body.length).toBeLessThanOrEqual(64 << 10);
    } else if (!('cut' in cut)) {
      expect(cut.status).toBe(403);
      expect(JSON.parse(cut.body.toString()).errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringContaining('limit') });
    }

    const stored = await vreg.storedDigests();
    expect(stored).not.toContain(big.digest);
    expect(stored).not.toContain(endless.digest);
    // The limit refuses those, not the upstream: a blob within it is served.
    const fits = blob(60 << 10);
    const served = await rawGet(s.blobUrl(goodPlan(), fits));
    expect(served.status).toBe(200);
    expect(sha256(served.body)).toBe(fits.digest);
    await untilStored(vreg, fits.digest);
  });
});

describe('abandoned downloads (distributed vreg, a trickling upstream of the test’s own)', () => {
  let vreg: VregUnderTest | undefined;
  let upstream: HostileUpstream | undefined;
  afterEach(async () => {
    await vreg?.stop();
    await upstream?.stop();
    vreg = undefined;
    upstream = undefined;
  });

  it('keeps abandoned fills running in the gateway, refuses further misses of their upstream with 503 and Retry-After, and serves them once the fills ended', async () => {
    const tally = recordAttacks(
      AttackClasses.abandonedDownloads,
      'clients start as many trickling blob downloads as the per-upstream fill limit allows and hang up, then ask for more (distributed)',
      SOURCE,
    );
    upstream = new HostileUpstream();
    await upstream.start();
    vreg = await startDistributedUnderTest({
      gateway: { VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '2' },
      fetcher: { VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '2' },
    });
    await abandonUpToTheLimit(await setUp(vreg, upstream), 2, tally);
  }, 240_000);
});
