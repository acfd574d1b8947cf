import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';

const dir = join(tmpdir(), 'vreg-spool-test');
const readAll = async (r: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe('Spool', () => {
  it('gives every reader the whole object from byte 0, including one that joins late', async () => {
    const spool = await Spool.create(dir);
    const data = randomBytes(300_000);
    const early = readAll(spool.reader());
    await spool.append(data.subarray(0, 100_000));
    const late = readAll(spool.reader());
    await spool.append(data.subarray(100_000));
    spool.verified();
    await spool.release();
    expect((await early).equals(data)).toBe(true);
    expect((await late).equals(data)).toBe(true);
  });

  it('holds the last chunk back until the fill is verified', async () => {
    const spool = await Spool.create(dir);
    const reader = spool.reader();
    const got: Buffer[] = [];
    reader.on('data', (c: Buffer) => got.push(c));
    await spool.append(Buffer.alloc(1000, 1));
    await spool.append(Buffer.alloc(10, 2));
    await new Promise((r) => setTimeout(r, 30));
    expect(Buffer.concat(got).length).toBe(1000);
    spool.verified();
    await new Promise((r) => reader.once('end', r));
    expect(Buffer.concat(got).length).toBe(1010);
    await spool.release();
  });

  it('errors its readers when the fill fails, so no reader ends cleanly', async () => {
    const spool = await Spool.create(dir);
    const reading = readAll(spool.reader());
    await spool.append(Buffer.alloc(5000));
    spool.failed(new Error('digest mismatch'));
    await expect(reading).rejects.toThrow('digest mismatch');
    await spool.release();
  });

  it('lets a fast reader finish while a slow one is paused', async () => {
    const spool = await Spool.create(dir);
    const slow = spool.reader();
    slow.pause();
    const fast = readAll(spool.reader());
    const data = randomBytes(1 << 20);
    await spool.append(data);
    spool.verified();
    expect((await fast).equals(data)).toBe(true);
    expect((await readAll(slow)).equals(data)).toBe(true);
    await spool.release();
  });

  it('leaves no file behind', async () => {
    const spool = await Spool.create(dir);
    await spool.append(Buffer.alloc(10));
    spool.verified();
    await spool.release();
    expect((await readdir(dir)).filter((f) => f.startsWith('spool-'))).toEqual([]);
  });
});

describe('Spool ranges', () => {
  it('serves a byte range and ends only once the fill is verified', async () => {
    const spool = await Spool.create(dir);
    const data = randomBytes(100_000);
    const reader = spool.reader({ start: 10, end: 19 });
    let ended = false;
    const got = readAll(reader).then((b) => {
      ended = true;
      return b;
    });
    await spool.append(data.subarray(0, 50_000));
    await spool.append(data.subarray(50_000));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    spool.verified();
    expect((await got).equals(data.subarray(10, 20))).toBe(true);
    await spool.release();
  });
});
