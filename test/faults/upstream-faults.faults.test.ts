import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawGet, sha256 } from '../support/http-get.ts';
import { FaultStack } from './support/fault-stack.ts';
import { FaultUpstream, randomBlobs, type UpstreamFault } from './support/fault-upstream.ts';
import { recordScenario } from './support/reliability-record.ts';

/**
 * An upstream that misbehaves on its first answers for a blob, then serves
 * it correctly. The client never gets a complete answer with wrong bytes,
 * no response hangs past the body idle timeout, nothing wrong is stored, and
 * the fetcher's retries store and record the blob once the upstream behaves.
 */
const IDLE_TIMEOUT_MS = 2000;
const upstream = new FaultUpstream(2 << 20);
const settings = { VREG_FILL_LEASE_TTL_MS: '1500', VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) };
let stack: FaultStack;
let upstreamUrl: string;

beforeAll(async () => {
  upstreamUrl = await upstream.start();
  stack = await FaultStack.start({ gateway: settings, fetcher: settings });
});

afterAll(async () => {
  await stack?.stop();
  await upstream.stop();
});

const cases: Array<{ fault: UpstreamFault; scenario: string; checked: string }> = [
  {
    fault: 'dies-mid-stream',
    scenario: 'upstream dies mid-stream',
    checked: 'the upstream resets the connection halfway through the body (twice)',
  },
  {
    fault: 'stalls',
    scenario: 'upstream stalls (slowloris)',
    checked: `the upstream sends half the body, then nothing with the connection open (twice); the client's answer ends within the ${IDLE_TIMEOUT_MS / 1000} s body idle timeout plus slack`,
  },
  {
    fault: 'lies-about-length',
    scenario: 'upstream lies about Content-Length',
    checked: 'the upstream declares 4 KiB more than it sends, then closes (twice)',
  },
  {
    fault: 'wrong-bytes',
    scenario: 'upstream serves wrong bytes',
    checked: 'the upstream sends the declared length with one byte flipped (twice)',
  },
];

describe('an upstream that misbehaves, then recovers', () => {
  for (const c of cases) {
    it(`${c.scenario}: no wrong bytes served or stored, and the blob is stored once the upstream behaves`, async () => {
      const [blob] = randomBlobs(1, 256 << 10);
      upstream.add(blob!);
      // The gateway's download and the fetcher's first retry both get the fault.
      upstream.arm(blob!.digest, c.fault, 2);
      await recordScenario(
        c.scenario,
        `${c.checked}; no complete answer with wrong bytes, nothing wrong stored, the fetcher's retry stores and records it; hashed back`,
        async (counts) => {
          const { registryId } = await stack.registryWith(`upstream-${c.fault}`, upstreamUrl);
          const started = Date.now();
          const res = await rawGet(stack.blobUrl(registryId, blob!.digest)).catch((err: Error) => ({
            status: 0,
            truncated: true,
            body: Buffer.from(err.message),
          }));
          counts.faults += 1;
          expect(Date.now() - started).toBeLessThan(IDLE_TIMEOUT_MS + 10_000);
          // Broken, one way or another: an error status or a cut connection, never a whole wrong blob.
          const completeAndWrong = res.status === 200 && !res.truncated && sha256(res.body) !== blob!.digest;
          expect(completeAndWrong).toBe(false);
          expect(res.status === 200 && !res.truncated).toBe(false);
          counts.audit = await stack.audit.run([{ relativePath: `faults/blob/blobs/${blob!.digest}`, digest: blob!.digest }], 60_000);
          expect(upstream.armed(blob!.digest)).toBe(0);
          counts.faults += 1; // the fetcher's faulty retry
          const again = await rawGet(stack.blobUrl(registryId, blob!.digest));
          expect(again.status).toBe(200);
          expect(sha256(again.body)).toBe(blob!.digest);
        },
      );
    });
  }
});
