import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type BlobStore, FsBlobStore, MemoryBlobStore } from '@vreg/blob-store';
import type { RegistryView } from '@vreg/contracts';
import type { UpstreamRegistry, UpstreamResponse } from '@vreg/upstream-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSpooledBlobFill } from './blob-fill.ts';
import { testFillDeps } from './testing/test-fill-deps.ts';

const MIB = 1024 * 1024;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const registry: RegistryView = {
  id: '1',
  name: 'r',
  upstreams: [{ id: '10', name: 'hub', url: 'https://hub.example', position: 0, cacheValidityHours: 24 }],
};

/** An upstream that sends `sent` in 64 KiB chunks (pausing `delayMs` before each) under a Content-Length of `declared`. */
function upstream(sent: Buffer, declared: number | undefined, delayMs = 0): UpstreamRegistry & { gets: number } {
  const fake = {
    gets: 0,
    async getBlob(): Promise<UpstreamResponse> {
      fake.gets += 1;
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let i = 0; i < sent.length; i += 64 * 1024) {
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
          yield sent.subarray(i, i + 64 * 1024);
        }
      }
      return {
        status: 200,
        body: Readable.from(chunks()),
        contentType: 'application/octet-stream',
        headers: {},
        ...(declared === undefined ? {} : { contentLength: declared }),
      };
    },
  };
  return fake as unknown as UpstreamRegistry & { gets: number };
}

/** Reads a stream to its end; `ended` false when it errored or was cut instead. */
async function drain(body: Readable): Promise<{ bytes: Buffer; ended: boolean; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of body) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks), ended: true };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), ended: false, error };
  }
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

describe.each([
  ['the file-system store', 'fs'],
  ['a store without a local file (S3, memory)', 'memory'],
] as const)('a spooled blob fill on %s', (_name, kind) => {
  let dir: string;
  let store: BlobStore;
  let spoolDir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vreg-fill-test-'));
    spoolDir = join(dir, 'spool');
    store = kind === 'fs' ? new FsBlobStore({ root: join(dir, 'store') }) : new MemoryBlobStore();
  });
  afterEach(async () => {
    await store.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a client the exact bytes and stores them, writing them to one local file', async () => {
    const blob = randomBytes(6 * MIB + 123);
    const digest = sha(blob);
    const fill = await startSpooledBlobFill(await testFillDeps(upstream(blob, blob.length), { store }), registry, 'library/x', digest, {
      spoolDir,
    });
    const client = drain(fill.spool.reader());
    expect((await fill.done).size).toBe(blob.length);
    await fill.spool.release();
    const got = await client;
    expect(got.ended).toBe(true);
    expect(sha(got.bytes)).toBe(digest);
    expect(sha((await drain((await store.get(digest))!.body)).bytes)).toBe(digest);
    // The file-system store's temp file is the spool: no spool file of its own.
    expect(await exists(spoolDir)).toBe(kind === 'memory');
    if (kind === 'fs') expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
  });

  it('lets a fast client and the fill finish while a slow client is paused; the slow one gets every byte later', async () => {
    const blob = randomBytes(12 * MIB);
    const digest = sha(blob);
    const fill = await startSpooledBlobFill(await testFillDeps(upstream(blob, blob.length, 1), { store }), registry, 'library/x', digest, {
      spoolDir,
    });
    const slow = fill.spool.reader();
    const first = await new Promise<Buffer>((resolve) => slow.once('data', resolve));
    slow.pause();
    const fast = await drain(fill.spool.reader());
    expect(sha(fast.bytes)).toBe(digest);
    await fill.done;
    await fill.spool.release();
    // Past the memory window: the slow client reads back from disk, after the commit moved the file.
    const rest = await drain(slow);
    expect(rest.ended).toBe(true);
    expect(sha(Buffer.concat([first, rest.bytes]))).toBe(digest);
  });

  it('keeps filling when a client hangs up mid-blob, and stores the blob', async () => {
    const blob = randomBytes(3 * MIB);
    const digest = sha(blob);
    const fill = await startSpooledBlobFill(await testFillDeps(upstream(blob, blob.length, 1), { store }), registry, 'library/x', digest, {
      spoolDir,
    });
    const client = fill.spool.reader();
    await new Promise((resolve) => client.once('data', resolve));
    client.destroy();
    await fill.done;
    await fill.spool.release();
    expect((await store.stat(digest))?.size).toBe(blob.length);
  });

  it.each([
    [
      'wrong bytes of the right length',
      (b: Buffer) => Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([b[b.length - 1]! ^ 1])]),
      true,
    ],
    ['a body shorter than its Content-Length', (b: Buffer) => b.subarray(0, b.length - 1000), true],
    ['a body longer than its Content-Length', (b: Buffer) => Buffer.concat([b, randomBytes(1000)]), true],
    ['wrong bytes and no Content-Length', (b: Buffer) => Buffer.concat([b, Buffer.from('x')]), false],
  ])('never ends a client cleanly on %s, and stores nothing', async (_what, lie, withLength) => {
    const blob = randomBytes(MIB);
    const digest = sha(blob);
    const sent = lie(blob);
    const deps = await testFillDeps(upstream(sent, withLength ? blob.length : undefined), { store });
    const fill = await startSpooledBlobFill(deps, registry, 'library/x', digest, { spoolDir });
    const client = drain(fill.spool.reader());
    await expect(fill.done).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    await fill.spool.release();
    const got = await client;
    expect(got.ended).toBe(false);
    // The last chunk is held until the digest matched, so no client ever holds every byte sent either.
    expect(got.bytes.length).toBeLessThan(sent.length);
    expect(await store.stat(digest)).toBeUndefined();
  });

  it('holds the last bytes back until `endAfter` settled', async () => {
    const blob = randomBytes(200_000);
    const digest = sha(blob);
    let publish: () => void = () => undefined;
    const endAfter = new Promise<void>((resolve) => (publish = resolve));
    const fill = await startSpooledBlobFill(await testFillDeps(upstream(blob, blob.length), { store }), registry, 'library/x', digest, {
      spoolDir,
      endAfter,
    });
    let ended = false;
    const client = drain(fill.spool.reader()).then((r) => {
      ended = true;
      return r;
    });
    await fill.done;
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).toBe(false);
    publish();
    expect(sha((await client).bytes)).toBe(digest);
    await fill.spool.release();
  });
});
