import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobStoreUnavailableError } from '@vreg/blob-store';
import type { EventBus } from '@vreg/bus';
import { type RegistryView, UpstreamUnavailableError, type UpstreamView } from '@vreg/contracts';
import type { UpstreamRegistry, UpstreamResponse, UpstreamTarget } from '@vreg/upstream-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlobFill, startBlobFill, startSpooledBlobFill } from './blob-fill.ts';
import type { FillDeps } from './fill-deps.ts';
import { BUSY_RETRY_AFTER_SECONDS, LocalFillSlots } from './fill-slots.ts';
import { testFillDeps } from './testing/test-fill-deps.ts';

// A leaked slot would refuse every later miss of its upstream for the life of
// the process: each way a fill can end must give it back.

const BLOB = randomBytes(20_000);
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

const upstreamView = (id: string): UpstreamView => ({
  id,
  name: `u${id}`,
  url: `http://u${id}.test`,
  position: Number(id),
  cacheValidityHours: 24,
});
const registry = (...ids: string[]): RegistryView => ({ id: '1', name: 'r', upstreams: ids.map(upstreamView) });

/** How one upstream answers a blob GET. */
type Answer =
  | { kind: 'serve'; bytes: Buffer; length?: number | undefined }
  | { kind: 'trickle' }
  | { kind: 'break-midway' }
  | { kind: 'not-found' }
  | { kind: 'unavailable' };

/** An upstream client whose upstreams (by URL) answer as told; bodies end with the caller's abort, as the real client's do. */
function fakeUpstreams(answers: Record<string, Answer>): UpstreamRegistry & { asked: string[] } {
  const asked: string[] = [];
  const fake = {
    asked,
    async getBlob(target: UpstreamTarget, _image: string, _digest: string, opts: { signal?: AbortSignal } = {}) {
      asked.push(target.url);
      const answer = answers[target.url];
      if (answer === undefined || answer.kind === 'not-found') return undefined;
      if (answer.kind === 'unavailable') throw new UpstreamUnavailableError(`${target.url} is down`);
      const body = bodyFor(answer);
      opts.signal?.addEventListener('abort', () => body.destroy(opts.signal?.reason as Error), { once: true });
      const length = answer.kind !== 'serve' ? BLOB.length : 'length' in answer ? answer.length : answer.bytes.length;
      return {
        status: 200,
        body,
        contentType: 'application/octet-stream',
        headers: {},
        ...(length === undefined ? {} : { contentLength: length }),
      } satisfies UpstreamResponse;
    },
  };
  return fake as unknown as UpstreamRegistry & { asked: string[] };
}

function bodyFor(answer: Exclude<Answer, { kind: 'not-found' | 'unavailable' }>): Readable {
  if (answer.kind === 'serve') return Readable.from([answer.bytes]);
  if (answer.kind === 'trickle') return trickling();
  return Readable.from(
    (async function* () {
      yield BLOB.subarray(0, 1000);
      throw new UpstreamUnavailableError('connection reset mid-body');
    })(),
  );
}

/** A body that sends its first bytes and then nothing: only an abort ends it. */
function trickling(): Readable {
  const body = new Readable({ read() {} });
  body.push(BLOB.subarray(0, 100));
  return body;
}

describe.each([
  ['a blob fill', false],
  ['a spooled blob fill', true],
] as const)('%s and its upstream fill slot', (_name, spooled) => {
  let spoolDir: string;
  let slots: LocalFillSlots;
  beforeEach(async () => {
    spoolDir = await mkdtemp(join(tmpdir(), 'vreg-fill-slots-'));
    slots = new LocalFillSlots(2);
  });
  afterEach(async () => rm(spoolDir, { recursive: true, force: true }));

  const start = async (deps: FillDeps, reg: RegistryView, signal?: AbortSignal): Promise<BlobFill> => {
    const options = { slots, ...(signal ? { signal } : {}) };
    if (!spooled) return startBlobFill(deps, reg, 'library/x', DIGEST, options);
    const fill = await startSpooledBlobFill(deps, reg, 'library/x', DIGEST, { ...options, spoolDir });
    // Nobody reads: the spool is dropped once the fill ends, as the gateway does.
    fill.done.finally(() => void fill.spool.release()).catch(() => undefined);
    return fill;
  };

  it('holds the slot while the copy runs and gives it back once the blob is stored', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: BLOB } }));
    const fill = await start(deps, registry('10'));
    expect(slots.running('10')).toBe(1);
    expect((await fill.done).size).toBe(BLOB.length);
    expect(slots.running('10')).toBe(0);
    expect(deps.store.digests()).toEqual([DIGEST]);
  });

  it('gives the slot back when the bytes do not match the digest', async () => {
    const wrong = Buffer.from(BLOB);
    wrong[0] = (wrong[0] as number) ^ 1;
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: wrong } }));
    const fill = await start(deps, registry('10'));
    await expect(fill.done).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    expect(slots.running('10')).toBe(0);
    expect(deps.store.digests()).toEqual([]);
  });

  it('gives the slot back when the upstream sends more bytes than it declared', async () => {
    const deps = await testFillDeps(
      fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: Buffer.concat([BLOB, BLOB]), length: BLOB.length } }),
    );
    const fill = await start(deps, registry('10'));
    await expect(fill.done).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    expect(slots.running('10')).toBe(0);
  });

  it('gives the slot back when the upstream breaks the body midway', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'break-midway' } }));
    const fill = await start(deps, registry('10'));
    await expect(fill.done).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(slots.running('10')).toBe(0);
  });

  it("gives the slot back when the fill's deadline ends a body that never finishes", async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'trickle' } }));
    const deadline = new AbortController();
    const fill = await start(deps, registry('10'), deadline.signal);
    expect(slots.running('10')).toBe(1);
    deadline.abort(new DOMException('fill timed out', 'TimeoutError'));
    await expect(fill.done).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(slots.running('10')).toBe(0);
    expect(deps.store.digests()).toEqual([]);
  });

  it('gives the slot back when the Content-Length is past the size limit, before storing a byte', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: BLOB } }), { maxBlobBytes: 1000 });
    await expect(start(deps, registry('10'))).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' });
    expect(slots.running('10')).toBe(0);
  });

  it('gives the slot back when the bytes seen pass the size limit', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: BLOB, length: undefined } }), {
      maxBlobBytes: 1000,
    });
    const fill = await start(deps, registry('10'));
    await expect(fill.done).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' });
    expect(slots.running('10')).toBe(0);
    expect(deps.store.digests()).toEqual([]);
  });

  it('gives the slot back when the store cannot open the upload', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: BLOB } }));
    deps.store.beginWrite = async () => {
      throw new BlobStoreUnavailableError('disk gone');
    };
    await expect(start(deps, registry('10'))).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    expect(slots.running('10')).toBe(0);
  });

  it('gives the slot back when the stored blob cannot be announced', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'serve', bytes: BLOB } }));
    const bus = deps.bus as EventBus;
    bus.publish = async () => {
      throw new Error('bus down');
    };
    const fill = await start(deps, registry('10'));
    await expect(fill.done).rejects.toThrow('bus down');
    expect(slots.running('10')).toBe(0);
  });

  it('gives the slots of upstreams that answered 404 or failed back at once, and holds the one that serves', async () => {
    const upstreams = fakeUpstreams({
      'http://u10.test': { kind: 'not-found' },
      'http://u20.test': { kind: 'unavailable' },
      'http://u30.test': { kind: 'serve', bytes: BLOB },
    });
    const deps = await testFillDeps(upstreams);
    const fill = await start(deps, registry('10', '20', '30'));
    expect([slots.running('10'), slots.running('20'), slots.running('30')]).toEqual([0, 0, 1]);
    await fill.done;
    expect(slots.running('30')).toBe(0);
  });

  it('gives the slot back when every upstream failed', async () => {
    const deps = await testFillDeps(fakeUpstreams({ 'http://u10.test': { kind: 'unavailable' } }));
    await expect(start(deps, registry('10'))).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await expect(start(await testFillDeps(fakeUpstreams({})), registry('10'))).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(slots.running('10')).toBe(0);
  });

  it('answers UPSTREAM_BUSY with a Retry-After, without asking the upstream, once its slots are taken', async () => {
    const upstreams = fakeUpstreams({ 'http://u10.test': { kind: 'trickle' } });
    const deps = await testFillDeps(upstreams);
    const deadline = new AbortController();
    const running = [await start(deps, registry('10'), deadline.signal), await start(deps, registry('10'), deadline.signal)];
    expect(upstreams.asked).toHaveLength(2);
    await expect(start(deps, registry('10'))).rejects.toMatchObject({
      code: 'UPSTREAM_BUSY',
      retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
    });
    expect(upstreams.asked).toHaveLength(2);
    expect(slots.running('10')).toBe(2);
    deadline.abort(new DOMException('fill timed out', 'TimeoutError'));
    for (const fill of running) await expect(fill.done).rejects.toBeDefined();
    expect(slots.running('10')).toBe(0);
  });

  it('skips a full upstream for the next one that has the blob', async () => {
    const upstreams = fakeUpstreams({
      'http://u10.test': { kind: 'serve', bytes: BLOB },
      'http://u20.test': { kind: 'serve', bytes: BLOB },
    });
    const deps = await testFillDeps(upstreams);
    const held = [slots.tryAcquire('10'), slots.tryAcquire('10')];
    const fill = await start(deps, registry('10', '20'));
    expect(fill.upstream.id).toBe('20');
    expect(upstreams.asked).toEqual(['http://u20.test']);
    await fill.done;
    for (const s of held) s?.release();
    expect([slots.running('10'), slots.running('20')]).toEqual([0, 0]);
  });
});
