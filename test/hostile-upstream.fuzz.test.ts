import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFuzz } from './support/fuzz-record.ts';
import {
  auditStore,
  bounded,
  type ClientAnswer,
  type HostileRig,
  hostileBreach,
  hostileCase,
  startHostileRig,
} from './support/hostile-fuzz.ts';
import { goodPlan } from './support/hostile-upstream.ts';
import { AttackClasses } from './support/security-record.ts';

// Fuzz of the pull path against an upstream of the test's own that answers
// every case in its own hostile way (test/support/hostile-upstream.ts): an
// embedded vreg (real upstream client, SQLite catalog, files on disk) driven
// through fastify's inject, seeded and bounded. Its record goes to
// .vreg-test/results/fuzz-pull-api-hostile-upstream-inject.json (format in
// test/support/fuzz-record.ts).

describe('pull API fuzz against a hostile upstream (inject)', () => {
  let rig: HostileRig;
  let n = 0;
  beforeAll(async () => {
    rig = await startHostileRig();
  });
  afterAll(async () => rig?.stop());

  it('never answers 500, hangs or delivers wrong bytes whatever the upstream answers, and stores nothing wrong', async () => {
    const record = await runFuzz(
      'pull API, hostile upstream (inject)',
      'a hostile upstream (wrong content types, huge headers, endless, truncated, stalled and wrong bodies, lying lengths and digests, redirects to loops, metadata and other schemes, hostile token challenges, malformed JSON manifests): no 500, an answer within 20 s, OCI errors body on errors, no whole answer whose bytes miss the digest asked, a well-behaved upstream served; afterwards every stored object hashes to its name and every cache entry names a stored object of its size',
      fc.asyncProperty(hostileCase, async (c) => {
        const url = rig.pathOf(++n, c);
        let answer: ClientAnswer;
        try {
          const res = await bounded(url, rig.vreg.server.inject({ method: c.method, url }));
          const length = res.headers['content-length'];
          answer = {
            status: res.statusCode,
            headers: res.headers as ClientAnswer['headers'],
            body: res.rawPayload,
            // inject collects what was written: a transfer cut short has fewer bytes than it declared.
            complete: length === undefined || Number(length) === res.rawPayload.length,
          };
        } catch (err) {
          // vreg ends a streamed answer whose upstream failed mid-body by destroying it: the client sees a cut
          // transfer. inject rejects only then (with the fill's error when the blob went straight to the
          // connection, "destroyed before completion" otherwise); a hang is `bounded`'s own error. That the
          // status line always comes first is the real-socket suite's check (test/fuzz.int.test.ts).
          if (/no answer within/.test((err as Error).message)) throw err;
          answer = { status: 200, headers: {}, body: Buffer.alloc(0), complete: false };
        }
        const breach = hostileBreach(c, answer);
        if (breach !== undefined) throw new Error(`${url}: ${breach}`);
      }),
      { seed: 90_005, numRuns: 2000, attack: AttackClasses.hostileUpstream },
    );
    expect(record).toMatchObject({ cases: 2000, failures: 0 });
    const audit = await auditStore(rig);
    expect(audit.objects).toBeGreaterThan(50);
    expect(audit.entries).toBeGreaterThan(50);
  }, 600_000);

  it('still serves a well-behaved case afterwards', async () => {
    const bytes = Buffer.from('alive');
    const object = {
      kind: 'blob' as const,
      bytes,
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      mediaType: 'application/octet-stream',
    };
    const url = rig.pathOf(++n, { object, plan: goodPlan(), byTag: false, method: 'GET' });
    const res = await rig.vreg.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('alive');
  });
});
