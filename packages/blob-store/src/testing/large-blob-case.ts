import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { expect, it } from 'vitest';
import { MemoryProbe } from './blob-fixtures.ts';
import type { UseFixture } from './describe-blob-store.ts';

const MIB = 1024 * 1024;
const SIZE = 40 * MIB;
// Generous: a store that buffered the whole blob once would show 40 MiB.
const BOUND = 24 * MIB;

/**
 * Streams a 40 MiB blob in and out and checks that memory grows by well
 * under its size: every adapter must stream with backpressure.
 */
export function defineLargeBlobCase(use: UseFixture): void {
  it('streams a 40 MiB blob in and out with bounded memory', { timeout: 180_000 }, async () => {
    const { store, holdsBlobsInMemory } = use();
    // Three distinct 1 MiB blocks, repeated: the source allocates nothing
    // while streaming, so what grows is the store's doing.
    const blocks = [randomBytes(MIB), randomBytes(MIB), randomBytes(MIB)];
    const blockAt = (i: number): Buffer => blocks[i % blocks.length] as Buffer;
    const hash = createHash('sha256');
    for (let i = 0; i < SIZE / MIB; i++) hash.update(blockAt(i));
    const digest = `sha256:${hash.digest('hex')}`;
    const allowance = holdsBlobsInMemory === true ? SIZE : 0;

    const writeProbe = new MemoryProbe();
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < SIZE / MIB; i++) {
        writeProbe.sample(i % 4 === 0);
        yield blockAt(i);
      }
    }
    const writer = await store.beginWrite(digest, { expectedSize: SIZE });
    await pipeline(source(), writer.stream);
    writeProbe.sample();
    await writer.commit();
    writeProbe.sample(true);
    expect(writeProbe.arrayBuffersGrowth).toBeLessThan(allowance + BOUND);
    expect(writeProbe.rssGrowth).toBeLessThan(allowance + SIZE);
    expect(await store.stat(digest)).toEqual({ size: SIZE });

    const readProbe = new MemoryProbe();
    const read = await store.get(digest);
    readProbe.sample();
    expect(read?.size).toBe(SIZE);
    const check = createHash('sha256');
    let received = 0;
    let sinceSample = 0;
    for await (const chunk of read?.body ?? []) {
      const bytes = chunk as Buffer;
      check.update(bytes);
      received += bytes.length;
      sinceSample += bytes.length;
      if (sinceSample >= 4 * MIB) {
        readProbe.sample(true);
        sinceSample = 0;
      }
    }
    readProbe.sample(true);
    expect(received).toBe(SIZE);
    expect(`sha256:${check.digest('hex')}`).toBe(digest);
    expect(readProbe.arrayBuffersGrowth).toBeLessThan(BOUND);
    expect(readProbe.rssGrowth).toBeLessThan(SIZE);
  });
}
