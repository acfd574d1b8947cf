import { Readable, type Writable } from 'node:stream';
import { OnceConsumedRead } from '../once-consumed-read.ts';
import { writeChunk } from '../write-chunk.ts';

/** Bytes per write to the destination: large enough that the per-write work is small beside the copy into the socket. */
const SLICE_BYTES = 1 << 20;

/**
 * A read of bytes already in memory (a hot blob, or a range of it). The
 * bytes are never copied: each write hands the socket a view of them.
 */
export class MemoryBlobRead extends OnceConsumedRead {
  readonly size: number;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer, signal?: AbortSignal) {
    super(signal);
    this.#bytes = bytes;
    this.size = bytes.length;
  }

  protected openBody(): Readable {
    return Readable.from(slices(this.#bytes), { objectMode: false });
  }

  protected async write(destination: Writable, signals: AbortSignal[], onWritten: ((bytes: number) => void) | undefined): Promise<void> {
    for (const slice of slices(this.#bytes)) {
      for (const s of signals) s.throwIfAborted();
      await writeChunk(destination, slice);
      onWritten?.(slice.length);
    }
  }
}

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += SLICE_BYTES) yield bytes.subarray(offset, offset + SLICE_BYTES);
}
