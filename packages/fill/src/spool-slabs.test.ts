import { randomBytes } from 'node:crypto';
import { ReadBufferPool } from '@vreg/blob-store';
import { describe, expect, it } from 'vitest';
import { SpoolSlabs } from './spool-slabs.ts';

const pool = (): ReadBufferPool => new ReadBufferPool(1000, { maxFree: 10, maxOutForSpares: 0 });

describe('SpoolSlabs', () => {
  it('copies a chunk across as many slabs as it needs, in order, without keeping the chunk', () => {
    const slabs = new SpoolSlabs(pool());
    const chunk = randomBytes(2500);
    const pieces = slabs.copy(chunk);
    expect(pieces.map((p) => p.bytes.length)).toEqual([1000, 1000, 500]);
    expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(chunk)).toBe(true);
    for (const p of pieces) expect(p.bytes.buffer).not.toBe(chunk.buffer);
    // The next chunk goes on in the half-full slab.
    const [next] = slabs.copy(Buffer.alloc(300, 7));
    expect(next?.slab).toBe(pieces[2]?.slab);
  });

  it('gives a slab back only once it is closed, out of the window and in no write', () => {
    const buffers = pool();
    const slabs = new SpoolSlabs(buffers);
    const [piece] = slabs.copy(Buffer.alloc(1000, 1));
    const slab = piece!.slab;
    slab.pins += 1;
    slabs.copy(Buffer.alloc(10, 2)); // a new slab: the first one is closed
    expect(slab.open).toBe(false);
    slab.inWindow -= 1;
    slabs.settle(slab);
    expect(buffers.out).toBe(2);
    slab.pins -= 1;
    slabs.settle(slab);
    expect(buffers.out).toBe(1);
    expect(buffers.idle).toBe(1);
    // Settling twice gives it back once.
    slabs.settle(slab);
    expect(buffers.idle).toBe(1);
  });

  it('leaves a lost slab to the GC: counted back, never reused', () => {
    const buffers = pool();
    const slabs = new SpoolSlabs(buffers);
    const [piece] = slabs.copy(Buffer.alloc(100));
    piece!.slab.lost = true;
    piece!.slab.inWindow -= 1;
    slabs.close();
    expect(buffers.out).toBe(0);
    expect(buffers.idle).toBe(0);
  });
});
