import { ReadBufferPool } from '@vreg/blob-store';

/**
 * The pool fills copy their newest bytes into: 64 KiB buffers (an upstream
 * socket's reads are at most that), and enough idle ones kept for a
 * window and a half, so a fill at steady state allocates nothing.
 */
export const fillSlabs = new ReadBufferPool(64 * 1024, { maxFree: 96, maxOutForSpares: 0 });

/** A pooled buffer holding consecutive bytes of one fill, and what still holds it. */
export class Slab {
  readonly buffer: Buffer;
  /** Bytes copied in so far. */
  used = 0;
  /** Its pieces still in the spool's window. */
  inWindow = 0;
  /** Writes to clients in flight with a piece of it. */
  pins = 0;
  /** Still the one new bytes are copied into. */
  open = true;
  /** A piece went where its end cannot be known (a stream, a cut write): the GC takes it, never the pool. */
  lost = false;
  settled = false;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }
}

/** A piece of a fill's bytes in a slab. */
export interface SlabPiece {
  bytes: Buffer;
  slab: Slab;
}

/**
 * Copies a fill's chunks into pooled slabs, and gives each slab back once
 * nothing holds it: it is full, out of the window and in no write.
 *
 * Why copy: Node reads a socket into a new ArrayBuffer per read. Kept in the
 * window, those buffers lived long enough to be promoted to V8's old
 * generation, where only a full collection frees them; a cold 200 MiB fill
 * read by 50 clients left 40-60 MB of them dead at a time. Copied, they die
 * young and the window's memory is reused.
 */
export class SpoolSlabs {
  readonly #pool: ReadBufferPool;
  #current: Slab | undefined;

  constructor(pool: ReadBufferPool = fillSlabs) {
    this.#pool = pool;
  }

  /** Copies `chunk` in; the pieces it went to, in order, each counted in the window. */
  copy(chunk: Buffer): SlabPiece[] {
    const pieces: SlabPiece[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#current === undefined || this.#current.used === this.#current.buffer.length) {
        this.close();
        this.#current = new Slab(this.#pool.take());
      }
      const slab = this.#current;
      const copied = chunk.copy(slab.buffer, slab.used, offset);
      pieces.push({ bytes: slab.buffer.subarray(slab.used, slab.used + copied), slab });
      slab.used += copied;
      slab.inWindow += 1;
      offset += copied;
    }
    return pieces;
  }

  /** No more bytes go into the current slab (the fill ended, or the next slab starts). */
  close(): void {
    const slab = this.#current;
    if (slab === undefined) return;
    this.#current = undefined;
    slab.open = false;
    this.settle(slab);
  }

  /** Gives `slab` back to the pool (or to the GC, when lost) once nothing holds it. */
  settle(slab: Slab): void {
    if (slab.settled || slab.open || slab.inWindow > 0 || slab.pins > 0) return;
    slab.settled = true;
    if (slab.lost) this.#pool.forget();
    else this.#pool.give(slab.buffer);
  }
}
