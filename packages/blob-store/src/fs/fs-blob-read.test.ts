import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobRead } from './fs-blob-read.ts';
import { ReadBufferPool } from './read-buffer-pool.ts';

/** A destination that takes each chunk a moment later (like a socket with a full buffer) and keeps a copy. */
function slowSink(stopAfter?: number): Writable & { got: Buffer[] } {
  const got: Buffer[] = [];
  let taken = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      got.push(Buffer.from(chunk)); // a copy: the pool reuses the buffer once this calls back
      taken += chunk.length;
      if (stopAfter !== undefined && taken >= stopAfter) {
        sink.destroy();
        return;
      }
      setImmediate(callback);
    },
  });
  return Object.assign(sink, { got });
}

describe('FsBlobRead.writeTo', () => {
  let dir: string;
  let path: string;
  const bytes = randomBytes(10_000 + 123);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vreg-fs-read-'));
    path = join(dir, 'blob');
    await writeFile(path, bytes);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const readOf = async (pool: ReadBufferPool, start = 0, size = bytes.length, signal?: AbortSignal) =>
    new FsBlobRead(await open(path, 'r'), start, size, signal, pool);

  it('writes every byte in order, pooled chunks reused, each counted once written', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const sink = slowSink();
    let counted = 0;
    await (await readOf(pool)).writeTo(sink, { onWritten: (n) => (counted += n) });
    expect(Buffer.concat(sink.got).equals(bytes)).toBe(true);
    expect(counted).toBe(bytes.length);
    expect(pool.out).toBe(0);
    expect(pool.idle).toBeGreaterThan(0);
  });

  it('writes a range, and needs no spare buffer to finish', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 0 });
    const sink = slowSink();
    await (await readOf(pool, 1000, 5000)).writeTo(sink);
    expect(Buffer.concat(sink.got).equals(bytes.subarray(1000, 6000))).toBe(true);
    expect(pool.out).toBe(0);
  });

  it('rejects when the destination closes part-way, and lets go of every buffer and the file', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const read = await readOf(pool);
    await expect(read.writeTo(slowSink(3000))).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(pool.out).toBe(0);
  });

  it('rejects when its signal aborts part-way', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const abort = new AbortController();
    const sink = slowSink();
    let written = 0;
    const read = await readOf(pool, 0, bytes.length, abort.signal);
    await expect(
      read.writeTo(sink, {
        onWritten: (n) => {
          written += n;
          if (written >= 2048) abort.abort(new Error('client gone'));
        },
      }),
    ).rejects.toThrow('client gone');
    expect(written).toBeLessThan(bytes.length);
    expect(pool.out).toBe(0);
  });

  it('fails, never ends short, when the file shrank under it', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const read = await readOf(pool);
    await truncate(path, 4000);
    await expect(read.writeTo(slowSink())).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    expect(pool.out).toBe(0);
  });

  it('fails the read, not the process, when a read ahead fails while the previous chunk is still being written', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const read = await readOf(pool);
      await truncate(path, 1500); // the read ahead of the second chunk comes up short
      // Takes the chunk only once the read ahead failed (it gave its buffer back), however slow the machine.
      const sink = new Writable({
        write: (_chunk: Buffer, _encoding, callback) => {
          const once = (): void => void (pool.out <= 1 ? callback() : setImmediate(once));
          once();
        },
      });
      await expect(read.writeTo(sink)).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
      expect(unhandled).toEqual([]);
      expect(pool.out).toBe(0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('is consumed once', async () => {
    const pool = new ReadBufferPool(1024, { maxFree: 4, maxOutForSpares: 8 });
    const read = await readOf(pool);
    await read.writeTo(slowSink());
    expect(() => read.body).toThrow('consumed once');
  });
});
