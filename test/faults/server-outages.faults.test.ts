import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, rawGet, sha256 } from '../support/http-get.ts';
import { waitFor } from '../support/wait.ts';
import { FaultStack } from './support/fault-stack.ts';
import { type FakeBlob, FaultUpstream, randomBlobs } from './support/fault-upstream.ts';
import { recordScenario } from './support/reliability-record.ts';

/**
 * NATS, the MongoDB-wire server and S3 go away for a while and come back,
 * on this file's own servers (never the shared ones). The vreg processes are
 * never restarted: they must reconnect by themselves. After each outage,
 * every requested blob ends stored and recorded, and every entry's bytes
 * hash to its digest.
 */
const OUTAGE_MS = 4000;
// Longer than the gateway's registry cache (VREG_REGISTRY_CACHE_MS, 5 s), so hits late in the
// outage need the stale-answer fallback.
const MONGO_OUTAGE_MS = 7000;
// 1 MiB/s per download: a 512 KiB fill lasts about half a second.
const upstream = new FaultUpstream(1 << 20);
let stack: FaultStack;
let upstreamUrl: string;

const requestedOf = (blobs: FakeBlob[]) => blobs.map((b) => ({ relativePath: `faults/blob/blobs/${b.digest}`, digest: b.digest }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  upstreamUrl = await upstream.start();
  stack = await FaultStack.start({ gateway: { VREG_FILL_LEASE_TTL_MS: '1500' }, fetcher: { VREG_FILL_LEASE_TTL_MS: '1500' } });
});

afterAll(async () => {
  await stack?.stop();
  await upstream.stop();
});

/** A whole, correct response, or why not. A complete 200 with wrong bytes fails the test at once. */
async function pull(registryId: string, blob: FakeBlob): Promise<RawResponse> {
  const res = await rawGet(stack.blobUrl(registryId, blob.digest)).catch((err: Error) => ({
    status: 0,
    headers: {},
    body: Buffer.from(err.message),
    truncated: true,
  }));
  if (res.status === 200 && !res.truncated)
    expect(sha256(res.body), 'a complete response must carry the digest it was asked for').toBe(blob.digest);
  return res;
}

const whole = (res: RawResponse) => res.status === 200 && !res.truncated;

/** Pulls until each blob comes back whole, as a client retries after a 5xx (bounded). */
async function pullUntilServed(registryId: string, blobs: FakeBlob[]): Promise<void> {
  for (const blob of blobs) {
    await waitFor(`${blob.digest} to be served whole`, async () => (whole(await pull(registryId, blob)) ? true : undefined), 60_000, 500);
  }
}

/** Hits served during an outage, all of them whole and correct. */
async function expectHits(registryId: string, blobs: FakeBlob[]): Promise<number> {
  let served = 0;
  for (const blob of blobs) {
    const res = await pull(registryId, blob);
    expect(res.status, `hit on ${blob.digest}: ${res.body.toString().slice(0, 300)}`).toBe(200);
    expect(res.truncated).toBe(false);
    served += 1;
  }
  return served;
}

describe('servers down for a while', () => {
  it('NATS restarted during a pull burst: hits keep being served, the services reconnect, nothing requested is lost', async () => {
    const cached = randomBlobs(3, 64 << 10);
    const burst = randomBlobs(8, 512 << 10);
    const after = randomBlobs(3, 64 << 10);
    upstream.add(...cached, ...burst, ...after);
    await recordScenario(
      'NATS restarted during a pull burst',
      `nats-server SIGKILLed while 8 fills ran, down ${OUTAGE_MS / 1000} s, restarted on its store: hits served while down, a miss answered 503 (not 500); fills served during the outage recorded with no client retry; new misses after it recorded (no vreg restart); all hashed back`,
      async (counts) => {
        const { registryId } = await stack.registryWith('nats-restart', upstreamUrl);
        await pullUntilServed(registryId, cached);
        await stack.audit.run(requestedOf(cached));

        const pulls = burst.map((b) => pull(registryId, b));
        await sleep(200);
        await stack.nats.kill();
        counts.faults += 1;
        await sleep(500);
        await expectHits(registryId, cached);
        // A miss cannot be coordinated (the fill lease lives in NATS): 503, which clients retry; never a 500.
        const missWhileDown = await pull(registryId, after[0]!);
        expect(missWhileDown.status, missWhileDown.body.toString()).toBe(503);
        expect(JSON.parse(missWhileDown.body.toString()).errors[0].code).toBe('UNAVAILABLE');
        await sleep(OUTAGE_MS);
        await stack.nats.start();
        // Fills that had started finish and are recorded without any client retry: the
        // fetcher holds their fetch.requested, JetStream kept it across the restart.
        const answers = await Promise.all(pulls);
        const served = burst.filter((_, i) => whole(answers[i]!));
        const healed = await stack.audit.run(requestedOf(served));
        expect(healed.lost, 'blobs served during the outage, never recorded').toEqual([]);
        await pullUntilServed(registryId, burst);
        // Misses after the restart need every service back on NATS: the gateway's lease and
        // events, the catalog's consumer and responders.
        await pullUntilServed(registryId, after);
        counts.audit = await stack.audit.run(requestedOf([...cached, ...burst, ...after]));
        expect((await stack.admin.call('GET', `/registries/${registryId}`)).status).toBe(200);
      },
    );
  });

  it('MongoDB stopped for a while: hits and misses keep being served, the catalog reconnects and records everything', async () => {
    const cached = randomBlobs(3, 64 << 10);
    const during = randomBlobs(3, 64 << 10);
    const after = randomBlobs(2, 64 << 10);
    upstream.add(...cached, ...during, ...after);
    await recordScenario(
      'MongoDB stopped for a while',
      `FerretDB SIGKILLed for ${MONGO_OUTAGE_MS / 1000} s and restarted on its files: hits (also past the gateway's 5 s registry cache) and new misses served while down, recorded once it is back; admin API and a gateway started meanwhile answer 503, not 500; the catalog reconnects without a restart; all hashed back`,
      async (counts) => {
        const { registryId } = await stack.registryWith('mongo-outage', upstreamUrl);
        await pullUntilServed(registryId, cached);
        await stack.audit.run(requestedOf(cached));

        await stack.mongo.kill();
        counts.faults += 1;
        const down = Date.now();
        const fresh = stack.spawn('gateway');
        await expectHits(registryId, cached);
        // The admin API says the database is away (503, retry), not a 500.
        const admin = await stack.admin.call<{ errors: Array<{ code: string }> }>('GET', `/registries/${registryId}`);
        expect([admin.status, admin.body.errors[0]?.code]).toEqual([503, 'CATALOG_UNAVAILABLE']);
        // A gateway started during the outage knows nothing: it cannot resolve the registry, so
        // it answers 503 (retry) at once, never a 500 or a hang. Hits need a gateway's lookup cache.
        const started = Date.now();
        const cold = await rawGet(
          `${(await fresh).url}/v2/virtual_registries/containers/${registryId}/faults/blob/blobs/${cached[0]!.digest}`,
        );
        expect([cold.status, Date.now() - started < 15_000]).toEqual([503, true]);
        await pullUntilServed(registryId, during);
        // Past the gateway's 5 s registry cache: the catalog answers "failed", the stale registry serves.
        await sleep(Math.max(0, 6000 - (Date.now() - down)));
        await expectHits(registryId, [...cached, ...during]);
        await sleep(Math.max(0, MONGO_OUTAGE_MS - (Date.now() - down)));
        await stack.mongo.start();
        await waitFor(
          'the admin API to answer again',
          async () => ((await stack.admin.call('GET', `/registries/${registryId}`)).status === 200 ? true : undefined),
          60_000,
          500,
        );
        await pullUntilServed(registryId, after);
        counts.audit = await stack.audit.run(requestedOf([...cached, ...during, ...after]));
      },
    );
  });

  it('S3 unreachable for a while, also mid-fill: no partial object is kept, and every requested blob is stored once it is back', async () => {
    const cached = randomBlobs(2, 64 << 10);
    const midFill = randomBlobs(3, 512 << 10);
    const during = randomBlobs(2, 64 << 10);
    upstream.add(...cached, ...midFill, ...during);
    await recordScenario(
      'S3 stopped for a while',
      `the S3 endpoint refuses and resets connections for ${OUTAGE_MS / 1000} s, starting while 3 fills ran: requests end (200 from upstream or 503, no hang); the broken fills stored and recorded by the fetcher with no client retry; no partial or wrong object stored; all hashed back`,
      async (counts) => {
        const { registryId } = await stack.registryWith('s3-outage', upstreamUrl);
        await pullUntilServed(registryId, cached);
        await stack.audit.run(requestedOf(cached));

        const pulls = midFill.map((b) => pull(registryId, b));
        await sleep(200);
        await stack.s3Gate.close();
        counts.faults += 1;
        const down = Date.now();
        // While the store is away, requests end (an error or a miss streamed from upstream), never hang.
        // (A fill's client may still get the whole verified blob: its bytes come from the upstream.)
        const answers = await Promise.all([...pulls, ...[...cached, ...during].map((b) => pull(registryId, b))]);
        for (const a of answers.slice(midFill.length)) expect([200, 503], a.body.toString().slice(0, 300)).toContain(a.status);
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
        await stack.s3Gate.open();
        // The fills the outage broke are redone by the fetcher, with no client retry.
        const healed = await stack.audit.run(requestedOf(midFill));
        expect(healed.lost, 'fills broken by the outage, never completed').toEqual([]);
        await pullUntilServed(registryId, during);
        counts.audit = await stack.audit.run(requestedOf([...cached, ...midFill, ...during]));
      },
    );
  });
});
