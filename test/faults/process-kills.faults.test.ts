import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAndHangUp, rawGet, sha256 } from '../support/http-get.ts';
import { waitFor } from '../support/wait.ts';
import { FaultStack } from './support/fault-stack.ts';
import { type FakeBlob, FaultUpstream, randomBlobs } from './support/fault-upstream.ts';
import { recordScenario } from './support/reliability-record.ts';

/**
 * kill -9 of each vreg process while it works, on servers of this file's
 * own. After each: every requested blob ends stored and recorded (the
 * fetcher and JetStream redelivery finish the work) and every entry's stored
 * bytes hash to its digest.
 */
const KILLS = 22;
const BLOB_SIZE = 512 << 10;
/** Hang-up offsets span this much of the blob: two read chunks short of its end, so every kill lands mid-blob. */
const KILL_SPAN = BLOB_SIZE - (128 << 10);
// 1 MiB/s per download: a fill takes about half a second, so every kill lands inside one.
const upstream = new FaultUpstream(1 << 20);
const lease = { VREG_FILL_LEASE_TTL_MS: '1500' };
let stack: FaultStack;
let upstreamUrl: string;

const requestedOf = (blobs: FakeBlob[]) => blobs.map((b) => ({ relativePath: `faults/blob/blobs/${b.digest}`, digest: b.digest }));

beforeAll(async () => {
  upstreamUrl = await upstream.start();
  stack = await FaultStack.start({ gateway: lease, fetcher: lease });
});

afterAll(async () => {
  await stack?.stop();
  await upstream.stop();
});

/** Every blob served by the running gateway, whole and with the right digest. */
async function expectServed(registryId: string, blobs: FakeBlob[]): Promise<void> {
  for (const blob of blobs) {
    const res = await rawGet(stack.blobUrl(registryId, blob.digest));
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(blob.digest);
  }
}

describe('kill -9 of vreg processes mid-work', () => {
  it(`leaves every fill the gateway abandoned to the fetcher, ${KILLS} kills at different byte offsets`, async () => {
    const blobs = randomBlobs(KILLS, BLOB_SIZE);
    upstream.add(...blobs);
    await recordScenario(
      `kill -9 of the gateway mid-fill (${KILLS}×)`,
      `gateway SIGKILLed after its client got 1 B…${Math.floor(((KILLS - 1) * KILL_SPAN) / KILLS) >> 10} KiB of a ${BLOB_SIZE >> 10} KiB blob, a new blob and offset each time; every blob stored, recorded and hashed back`,
      async (counts) => {
        const { registryId } = await stack.registryWith('gateway-kills', upstreamUrl);
        for (const [i, blob] of blobs.entries()) {
          // Offsets spread over the blob, from the first byte to the last chunk that is still mid-blob:
          // a client reads in socket chunks (up to 64 KiB), so a hang-up asked for later may already hold every byte.
          const offset = Math.max(1, Math.floor((i * KILL_SPAN) / KILLS));
          // The next gateway starts while this one fills, so the kills follow each other quickly.
          const next = stack.spawn('gateway');
          const got = await getAndHangUp(stack.blobUrl(registryId, blob.digest), offset);
          expect(got.status).toBe(200);
          expect(got.received).toBeLessThan(BLOB_SIZE);
          await stack.kill('gateway');
          counts.kills += 1;
          stack.use('gateway', await next);
        }
        counts.audit = await stack.audit.run(requestedOf(blobs));
        // The fetcher really did the work: most blobs were downloaded a second time.
        const refilled = blobs.filter((b) => upstream.gets(b.digest) >= 2).length;
        expect(refilled, stack.outputs()).toBeGreaterThan(KILLS / 2);
        await expectServed(registryId, blobs);
      },
    );
  });

  it('finishes the work of a fetcher and a catalog killed mid-work once they are back, serving hits meanwhile', async () => {
    const abandoned = randomBlobs(3, 1 << 20);
    const burst = randomBlobs(8, 64 << 10);
    const earlier = randomBlobs(2, 64 << 10);
    upstream.add(...abandoned, ...burst, ...earlier);
    await recordScenario(
      'kill -9 of the fetcher and of the catalog mid-work',
      'gateway SIGKILLed right after 3 misses began, then the fetcher SIGKILLed while filling them; catalog SIGKILLed while recording a burst of 8 pulls; hits served while the catalog is down; all stored, recorded and hashed back after both restart',
      async (counts) => {
        const { registryId } = await stack.registryWith('worker-kills', upstreamUrl);
        await expectServed(registryId, earlier);
        await stack.audit.run(requestedOf(earlier));

        // The gateway dies at once, so the fetcher takes the three fills over; it dies during them.
        await Promise.all(abandoned.map((b) => getAndHangUp(stack.blobUrl(registryId, b.digest), 1)));
        await stack.kill('gateway');
        counts.kills += 1;
        const gateway = stack.startService('gateway');
        await waitFor(
          'the fetcher to start filling',
          async () => (abandoned.some((b) => upstream.gets(b.digest) >= 2) ? true : undefined),
          30_000,
          20,
        );
        await stack.kill('fetcher');
        counts.kills += 1;
        await gateway;
        const fetcher = stack.startService('fetcher');

        // The catalog dies while object.stored events of a burst of pulls arrive.
        const pulls = burst.map((b) => rawGet(stack.blobUrl(registryId, b.digest)));
        await Promise.race(pulls);
        await stack.kill('catalog');
        counts.kills += 1;
        for (const res of await Promise.all(pulls)) expect(res.status).toBe(200);
        // Hits keep being served from the gateway's lookup cache and the store.
        await expectServed(registryId, [...earlier, ...burst]);
        await Promise.all([fetcher, stack.startService('catalog')]);

        counts.audit = await stack.audit.run(requestedOf([...earlier, ...abandoned, ...burst]), 120_000);
        await expectServed(registryId, abandoned);
      },
    );
  });
});
