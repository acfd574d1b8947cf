import { addAbortSignal, Readable, type Writable } from 'node:stream';
import type { BlobRead, BlobWriteToOptions } from '../blob-store.ts';
import { writeChunk } from '../write-chunk.ts';

/** Bytes per write to the destination: large enough that the per-write work is small beside the copy into the socket. */
const SLICE_BYTES = 1 << 20;

/**
 * A read of bytes already in memory (a hot blob, or a range of it). The
 * bytes are never copied: each write hands the socket a view of them.
 */
export class MemoryBlobRead implements BlobRead {
  readonly size: number;
  readonly #bytes: Buffer;
  readonly #signal: AbortSignal | undefined;
  #body: Readable | undefined;
  #consumed = false;

  constructor(bytes: Buffer, signal?: AbortSignal) {
    this.#bytes = bytes;
    this.size = bytes.length;
    this.#signal = signal;
  }

  get body(): Readable {
    if (this.#body) return this.#body;
    this.#claim('body');
    const body = Readable.from(slices(this.#bytes), { objectMode: false });
    if (this.#signal) addAbortSignal(this.#signal, body);
    this.#body = body;
    return body;
  }

  async writeTo(destination: Writable, options: BlobWriteToOptions = {}): Promise<void> {
    this.#claim('writeTo');
    const signals = [this.#signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    for (const slice of slices(this.#bytes)) {
      for (const s of signals) s.throwIfAborted();
      await writeChunk(destination, slice);
      options.onWritten?.(slice.length);
    }
  }

  #claim(how: string): void {
    if (this.#consumed) throw new Error(`a blob read is consumed once; ${how} came second`);
    this.#consumed = true;
  }
}

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += SLICE_BYTES) yield bytes.subarray(offset, offset + SLICE_BYTES);
}
