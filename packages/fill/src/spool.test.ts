import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { ReadBufferPool, type WrittenBytes } from '@vreg/blob-store';
import { describe, expect, it, vi } from 'vitest';
import { Spool } from './spool.ts';
import { SpoolFile } from './spool-file.ts';
import { SpoolSlabs } from './spool-slabs.ts';

const dir = join(tmpdir(), 'vreg-spool-test');
const MIB = 1024 * 1024;

const readAll = async (r: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** A spool over a real spool file, fed the way a fill feeds it: memory first, then the file. */
async function spooled(): Promise<{ spool: Spool; append: (chunk: Buffer) => Promise<void> }> {
  const file = await SpoolFile.create(dir);
  const spool = new Spool(file);
  return {
    spool,
    append: async (chunk) => {
      spool.push(chunk);
      await new Promise<void>((resolve, reject) => file.stream.write(chunk, (err) => (err ? reject(err) : resolve())));
      spool.persisted(spool.written);
    },
  };
}

/** A file of known bytes that counts the reads slow readers make. */
function countingFile(data: Buffer): WrittenBytes & { reads: number; closed: boolean } {
  const file = {
    reads: 0,
    closed: false,
    async read(buffer: Buffer, position: number) {
      file.reads += 1;
      return data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length));
    },
    async close() {
      file.closed = true;
    },
  };
  return file;
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

describe('Spool', () => {
  it('gives every reader the whole object from byte 0, including one that joins late', async () => {
    const { spool, append } = await spooled();
    const data = randomBytes(300_000);
    const early = readAll(spool.reader());
    await append(data.subarray(0, 100_000));
    const late = readAll(spool.reader());
    await append(data.subarray(100_000));
    spool.verified();
    await spool.release();
    expect((await early).equals(data)).toBe(true);
    expect((await late).equals(data)).toBe(true);
  });

  it('holds the last chunk back until the fill is verified', async () => {
    const { spool, append } = await spooled();
    const reader = spool.reader();
    const got: Buffer[] = [];
    reader.on('data', (c: Buffer) => got.push(c));
    await append(Buffer.alloc(1000, 1));
    await append(Buffer.alloc(10, 2));
    // The reader gets the first chunk however slowly the machine runs it, and still not the last a while later.
    await vi.waitFor(() => expect(Buffer.concat(got).length).toBe(1000), { timeout: 10_000, interval: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(Buffer.concat(got).length).toBe(1000);
    spool.verified();
    await new Promise((r) => reader.once('end', r));
    expect(Buffer.concat(got).length).toBe(1010);
    await spool.release();
  });

  it('errors its readers when the fill fails, so no reader ends cleanly', async () => {
    const { spool, append } = await spooled();
    const reading = readAll(spool.reader());
    await append(Buffer.alloc(5000));
    spool.failed(new Error('digest mismatch'));
    spool.verified();
    await expect(reading).rejects.toThrow('digest mismatch');
    await expect(readAll(spool.reader())).rejects.toThrow('digest mismatch');
    await spool.release();
  });

  it('lets a fast reader finish while a slow one is paused, the slow one reading back from the file', async () => {
    const data = randomBytes(12 * MIB);
    const file = countingFile(data);
    const spool = new Spool(file);
    const slow = spool.reader();
    slow.pause();
    const fast = readAll(spool.reader());
    for (const chunk of chunked(data, 64 * 1024)) {
      spool.push(chunk);
      spool.persisted(spool.written);
    }
    spool.verified();
    expect((await fast).equals(data)).toBe(true);
    const readsBefore = file.reads;
    expect((await readAll(slow)).equals(data)).toBe(true);
    expect(file.reads).toBeGreaterThan(readsBefore);
    await spool.release();
    expect(file.closed).toBe(true);
  });

  it('serves a reader that keeps up from memory, never from the file', async () => {
    const data = randomBytes(10 * MIB);
    const file = countingFile(data);
    const spool = new Spool(file);
    const reader = spool.reader();
    let received = 0;
    const got: Buffer[] = [];
    reader.on('data', (c: Buffer) => {
      got.push(c);
      received += c.length;
    });
    const chunks = chunked(data, 64 * 1024);
    for (const [i, chunk] of chunks.entries()) {
      spool.push(chunk);
      spool.persisted(spool.written);
      // Everything but the last chunk (held until verified) reaches the reader before the next one comes.
      const due = i * 64 * 1024;
      while (received < due) await new Promise((r) => setImmediate(r));
    }
    spool.verified();
    await new Promise((r) => reader.once('end', r));
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(file.reads).toBe(0);
    await spool.release();
  });

  it('keeps about 4 MiB in memory once the bytes are on disk, and everything that is not', async () => {
    const data = randomBytes(16 * MIB);
    const spool = new Spool(countingFile(data));
    const chunks = chunked(data, 256 * 1024);
    for (const chunk of chunks.slice(0, 32)) spool.push(chunk);
    // Not on disk yet: nothing may leave memory.
    expect(spool.bufferedBytes).toBe(8 * MIB);
    spool.persisted(8 * MIB);
    expect(spool.bufferedBytes).toBeLessThanOrEqual(4 * MIB + 256 * 1024);
    for (const chunk of chunks.slice(32)) {
      spool.push(chunk);
      spool.persisted(spool.written);
    }
    expect(spool.bufferedBytes).toBeLessThanOrEqual(4 * MIB + 256 * 1024);
    spool.verified();
    // A reader joining now reads the old part from the file and the rest from memory.
    expect((await readAll(spool.reader())).equals(data)).toBe(true);
    await spool.release();
  });

  it('leaves no file behind', async () => {
    const { spool, append } = await spooled();
    await append(Buffer.alloc(10));
    spool.verified();
    await spool.release();
    expect((await readdir(dir)).filter((f) => f.startsWith('spool-'))).toEqual([]);
  });
});

describe('Spool ranges', () => {
  it('serves a byte range and ends only once the fill is verified', async () => {
    const { spool, append } = await spooled();
    const data = randomBytes(100_000);
    const reader = spool.reader({ start: 10, end: 19 });
    let ended = false;
    const got = readAll(reader).then((b) => {
      ended = true;
      return b;
    });
    await append(data.subarray(0, 50_000));
    await append(data.subarray(50_000));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    spool.verified();
    expect((await got).equals(data.subarray(10, 20))).toBe(true);
    await spool.release();
  });

  it('serves a range that starts below the window from the file and ends in memory', async () => {
    const data = randomBytes(9 * MIB);
    const file = countingFile(data);
    const spool = new Spool(file);
    for (const chunk of chunked(data, 100_000)) {
      spool.push(chunk);
      spool.persisted(spool.written);
    }
    spool.verified();
    const range = { start: 1_000_003, end: 8 * MIB + 17 };
    expect((await readAll(spool.reader(range))).equals(data.subarray(range.start, range.end + 1))).toBe(true);
    expect(file.reads).toBeGreaterThan(0);
    await spool.release();
  });
});

/** A response-like destination that copies what it is given (pooled buffers are reused) and takes each write after a turn of the loop, or never once `stall()` is called. */
function slowDestination(onWrite: () => void = () => undefined): Writable & { bytes: () => Buffer } {
  const got: Buffer[] = [];
  const dest = new Writable({
    highWaterMark: 0,
    write(chunk: Buffer, _encoding, callback) {
      got.push(Buffer.from(chunk));
      onWrite();
      setImmediate(callback);
    },
  });
  return Object.assign(dest, { bytes: () => Buffer.concat(got) });
}

describe('Spool writeTo', () => {
  it('writes a slow destination every byte, reading back from the file into one pooled buffer at a time', async () => {
    const data = randomBytes(12 * MIB);
    const file = countingFile(data);
    const pool = new ReadBufferPool(256 * 1024, { maxFree: 4, maxOutForSpares: 4 });
    const spool = new Spool(file, pool);
    let mostOut = 0;
    const dest = slowDestination(() => (mostOut = Math.max(mostOut, pool.out)));
    const reader = spool.reader();
    for (const chunk of chunked(data, 64 * 1024)) {
      spool.push(chunk);
      spool.persisted(spool.written);
    }
    spool.verified();
    let written = 0;
    await reader.writeTo(dest, { onWritten: (n) => (written += n) });
    expect(dest.bytes().equals(data)).toBe(true);
    expect(written).toBe(data.length);
    expect(file.reads).toBeGreaterThan(0);
    expect(mostOut).toBe(1);
    expect(pool.out).toBe(0);
    expect(pool.idle).toBe(1);
    await spool.release();
    expect(file.closed).toBe(true);
  });

  it('follows the fill as it grows and ends only once it is verified, for a range too', async () => {
    const { spool, append } = await spooled();
    const data = randomBytes(300_000);
    const whole = slowDestination();
    const part = slowDestination();
    let ended = false;
    const writing = Promise.all([spool.reader().writeTo(whole), spool.reader({ start: 10, end: 199_999 }).writeTo(part)]).then(
      () => (ended = true),
    );
    await append(data.subarray(0, 100_000));
    await append(data.subarray(100_000, 250_000));
    await append(data.subarray(250_000));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    spool.verified();
    await writing;
    expect(whole.bytes().equals(data)).toBe(true);
    expect(part.bytes().equals(data.subarray(10, 200_000))).toBe(true);
    await spool.release();
  });

  it('keeps copies in pooled slabs: the caller may reuse a chunk at once, and every slab goes back once the fill is done', async () => {
    const data = randomBytes(8 * MIB);
    const slabPool = new ReadBufferPool(64 * 1024, { maxFree: 200, maxOutForSpares: 0 });
    const spool = new Spool(
      countingFile(data),
      new ReadBufferPool(256 * 1024, { maxFree: 4, maxOutForSpares: 4 }),
      new SpoolSlabs(slabPool),
    );
    let mostSlabs = 0;
    const dest = slowDestination(() => (mostSlabs = Math.max(mostSlabs, slabPool.out)));
    const writing = spool.reader().writeTo(dest);
    const scratch = Buffer.alloc(48 * 1024);
    for (let offset = 0; offset < data.length; offset += scratch.length) {
      // One buffer for every chunk, as a socket's reads could be: the spool must not keep it.
      data.copy(scratch, 0, offset);
      spool.push(scratch.subarray(0, Math.min(scratch.length, data.length - offset)));
      spool.persisted(spool.written);
      await new Promise((r) => setImmediate(r));
    }
    spool.verified();
    await writing;
    expect(dest.bytes().equals(data)).toBe(true);
    // The 4 MiB window, the slab being filled and the one a write holds: never the whole 8 MiB.
    expect(mostSlabs).toBeLessThanOrEqual(4 * 16 + 2);
    await spool.release();
    expect(slabPool.out).toBe(0);
    expect(slabPool.idle).toBeGreaterThan(0);
  });

  it('leaves the slabs of a cut client write to the GC, and gives the others back', async () => {
    const slabPool = new ReadBufferPool(64 * 1024, { maxFree: 200, maxOutForSpares: 0 });
    const spool = new Spool(countingFile(Buffer.alloc(0)), undefined, new SpoolSlabs(slabPool));
    const dest = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('connection reset'));
      },
    });
    dest.on('error', () => undefined);
    const writing = spool.reader().writeTo(dest);
    // 300 KiB in five slabs; one write takes 256 KiB of it (the first four), and fails.
    spool.push(Buffer.alloc(300 * 1024, 1));
    // The last chunk is held back until verified: this one lets the first go to the client.
    spool.push(Buffer.alloc(1, 2));
    await expect(writing).rejects.toThrow('connection reset');
    spool.verified();
    await spool.release();
    expect(slabPool.out).toBe(0);
    expect(slabPool.idle).toBe(1);
  });

  it('writes an upstream chunk that two slabs hold as one write, and a reader behind in writes of up to 256 KiB', async () => {
    const slabPool = new ReadBufferPool(64 * 1024, { maxFree: 200, maxOutForSpares: 0 });
    const spool = new Spool(countingFile(Buffer.alloc(0)), undefined, new SpoolSlabs(slabPool));
    const writes: number[] = [];
    const dest = new Writable({
      writev(chunks, callback) {
        writes.push(chunks.reduce((n, c) => n + c.chunk.length, 0));
        callback();
      },
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk.length);
        callback();
      },
    });
    const writing = spool.reader().writeTo(dest);
    // 1000 bytes, then 64 KiB chunks: each of those ends in the next slab.
    spool.push(Buffer.alloc(1000, 1));
    for (let i = 0; i < 3; i++) {
      spool.push(Buffer.alloc(64 * 1024, 2));
      await new Promise((r) => setImmediate(r));
    }
    expect(writes).toEqual([1000, 64 * 1024, 64 * 1024]);
    // Behind by 6 chunks: 256 KiB at once, then the rest.
    for (let i = 0; i < 6; i++) spool.push(Buffer.alloc(64 * 1024, 3));
    spool.verified();
    await writing;
    expect(writes.slice(3)).toEqual([256 * 1024, 3 * 64 * 1024]);
    await spool.release();
  });

  it('rejects when the fill fails, so the response is cut instead of ended', async () => {
    const { spool, append } = await spooled();
    const writing = spool.reader().writeTo(slowDestination());
    await append(Buffer.alloc(5000));
    spool.failed(new Error('digest mismatch'));
    await expect(writing).rejects.toThrow('digest mismatch');
    await spool.release();
  });

  it('rejects and lets go of the fill when the destination closes while it waits for bytes', async () => {
    const file = countingFile(Buffer.alloc(0));
    const spool = new Spool(file);
    const dest = slowDestination();
    const writing = spool.reader().writeTo(dest);
    await new Promise((r) => setImmediate(r));
    dest.destroy();
    await expect(writing).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    await spool.release();
    expect(file.closed).toBe(true);
  });

  it('is ready once it has a byte to give or the verified end, and rejects when the fill failed first', async () => {
    const { spool, append } = await spooled();
    let ready = false;
    const first = spool.reader();
    const readied = first.ready().then(() => {
      ready = true;
    });
    // The only chunk so far is the held-back last one: nothing to give yet.
    await append(Buffer.alloc(1000, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(ready).toBe(false);
    await append(Buffer.alloc(10, 2));
    await readied;
    // Readiness takes nothing: the reader still has every byte.
    spool.verified();
    expect((await readAll(first)).length).toBe(1010);
    await spool.release();

    const empty = await spooled();
    const emptyReader = empty.spool.reader();
    const emptyReady = emptyReader.ready();
    empty.spool.verified();
    await emptyReady;
    expect((await readAll(emptyReader)).length).toBe(0);
    await empty.spool.release();

    const failing = await spooled();
    const failingReader = failing.spool.reader();
    const refused = failingReader.ready();
    await failing.append(Buffer.alloc(10));
    failing.spool.failed(new Error('digest mismatch'));
    await expect(refused).rejects.toThrow('digest mismatch');
    failingReader.destroy();
    await failing.spool.release();
  });

  it('is consumed one way only', async () => {
    const { spool, append } = await spooled();
    const reader = spool.reader();
    const reading = readAll(reader);
    await append(Buffer.alloc(10));
    await expect(reader.writeTo(slowDestination())).rejects.toThrow('consumed once');
    spool.verified();
    await reading;
    await spool.release();
  });
});
