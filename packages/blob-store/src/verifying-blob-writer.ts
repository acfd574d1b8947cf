import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseDigest } from './blob-key.ts';
import type { BlobWriter, WrittenBytes } from './blob-store.ts';
import { BlobDigestMismatchError } from './errors.ts';

const WRITE_QUEUE_BYTES = 1024 * 1024;

/**
 * Where a backend puts the bytes of one write. `VerifyingBlobWriter` calls
 * `write` strictly in order and never concurrently, `commit` only after the
 * digest matched, and `abort` at most once, after any `write`/`commit` in
 * flight has settled.
 */
export interface BlobSink {
  /**
   * Takes the next chunk. Resolves when the writer may accept more: this is
   * the stream's backpressure. `signal` fires when the write is aborted.
   * The chunk is owned by the sink once passed (the writer never reuses it).
   */
  write(chunk: Buffer, signal: AbortSignal): Promise<void>;
  /**
   * Takes several chunks at once, in order (the chunks that queued while
   * the previous write was in flight): one system call instead of one per
   * chunk. Optional; without it the chunks go to `write` one by one.
   */
  writev?(chunks: Buffer[], signal: AbortSignal): Promise<void>;
  /** Makes the verified `size` bytes visible under the digest. */
  commit(size: number, signal: AbortSignal): Promise<void>;
  /** Discards everything written; best effort (rejections are ignored). */
  abort(): Promise<void>;
  /** Backends writing a local file: opens it for reading (see {@link BlobWriter.openWrittenBytes}). */
  openWrittenBytes?(): Promise<WrittenBytes>;
}

/** Options of {@link VerifyingBlobWriter}. */
export interface VerifyingBlobWriterOptions {
  /** The digest the bytes must hash to; validated. */
  digest: string;
  /** Exact size in bytes the bytes must have, when known. */
  expectedSize?: number | undefined;
  /** Aborts the write when it fires. */
  signal?: AbortSignal | undefined;
  /** The backend's end of the write. */
  sink: BlobSink;
}

/**
 * The one `BlobWriter` every adapter uses: hashes and counts the bytes as
 * they pass to a backend `BlobSink`, and lets the sink make them visible only
 * once they match the digest. Adapters differ only in their sink.
 */
export class VerifyingBlobWriter implements BlobWriter {
  /** Writable that receives the bytes in order; honours backpressure. */
  readonly stream: Writable;
  /** Present when the sink writes a local file; see {@link BlobWriter.openWrittenBytes}. */
  readonly openWrittenBytes?: () => Promise<WrittenBytes>;
  readonly #digest: string;
  readonly #algorithm: string;
  readonly #hash: Hash;
  readonly #expectedSize: number | undefined;
  readonly #sink: BlobSink;
  readonly #signal: AbortSignal | undefined;
  // Cancels sink requests in flight when the write is aborted.
  readonly #controller = new AbortController();
  #bytesWritten = 0;
  #inflight: Promise<void> = Promise.resolve();
  #failure: unknown;
  #committed = false;
  #aborted = false;
  #abortReason: unknown;
  #commitResult: Promise<void> | undefined;
  #discardResult: Promise<void> | undefined;

  /** @throws InvalidDigestError, RangeError for a bad `expectedSize`. */
  constructor(opts: VerifyingBlobWriterOptions) {
    this.#algorithm = parseDigest(opts.digest).algorithm;
    if (opts.expectedSize !== undefined && !(Number.isSafeInteger(opts.expectedSize) && opts.expectedSize >= 0)) {
      throw new RangeError(`expectedSize ${opts.expectedSize} is not a non-negative integer`);
    }
    this.#digest = opts.digest;
    this.#expectedSize = opts.expectedSize;
    this.#sink = opts.sink;
    if (opts.sink.openWrittenBytes) this.openWrittenBytes = opts.sink.openWrittenBytes.bind(opts.sink);
    this.#hash = createHash(this.#algorithm);
    this.stream = new Writable({
      // Chunks queue up to 1 MiB while a write is in flight and go down in one writev: a miss arrives
      // in chunks of 16-64 KiB, and a file write per chunk costs a thread-pool trip each.
      highWaterMark: WRITE_QUEUE_BYTES,
      write: (chunk: Buffer, _enc, cb) => this.#write([chunk], cb),
      writev: (chunks, cb) =>
        this.#write(
          chunks.map((c) => c.chunk as Buffer),
          cb,
        ),
    });
    // Remember the first failure for commit(); the listener also keeps an
    // unobserved stream error from becoming an uncaught exception.
    this.stream.on('error', (err) => {
      this.#failure ??= err;
    });
    this.#signal = opts.signal;
    if (this.#signal?.aborted) void this.abort(this.#signal.reason);
    else this.#signal?.addEventListener('abort', this.#onSignal, { once: true });
  }

  /** Bytes accepted so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Verifies and makes the object visible; see {@link BlobWriter.commit}. */
  commit(options?: { onVerified?: () => void }): Promise<void> {
    this.#commitResult ??= this.#commit(options?.onVerified);
    return this.#commitResult;
  }

  /** Discards the write; see {@link BlobWriter.abort}. Never rejects. */
  async abort(reason?: unknown): Promise<void> {
    if (this.#committed) return;
    if (!this.#aborted) {
      this.#aborted = true;
      this.#abortReason = reason ?? new DOMException('blob write aborted', 'AbortError');
      this.#detachSignal();
      this.#controller.abort(this.#abortReason);
      this.stream.destroy();
    }
    if (this.#commitResult) {
      // A commit in flight discards on failure itself, or has won the race.
      await this.#commitResult.catch(() => undefined);
      return;
    }
    await this.#discard();
  }

  #write(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    if (this.#aborted) {
      callback(toError(this.#abortReason));
      return;
    }
    let total = this.#bytesWritten;
    for (const chunk of chunks) total += chunk.length;
    if (this.#expectedSize !== undefined && total > this.#expectedSize) {
      // Stop a lying upstream early instead of storing bytes we will reject.
      callback(this.#mismatch(undefined, total));
      return;
    }
    for (const chunk of chunks) this.#hash.update(chunk);
    this.#bytesWritten = total;
    const written = this.#sinkWrite(chunks);
    this.#inflight = written.then(
      () => undefined,
      () => undefined,
    );
    written.then(
      () => callback(),
      (err: unknown) => callback(toError(err)),
    );
  }

  async #sinkWrite(chunks: Buffer[]): Promise<void> {
    const signal = this.#controller.signal;
    if (chunks.length === 1) return this.#sink.write(chunks[0] as Buffer, signal);
    if (this.#sink.writev) return this.#sink.writev(chunks, signal);
    for (const chunk of chunks) await this.#sink.write(chunk, signal);
  }

  async #commit(onVerified: (() => void) | undefined): Promise<void> {
    try {
      this.#throwIfAborted();
      await this.#endStream();
      this.#throwIfAborted();
      const actual = `${this.#algorithm}:${this.#hash.digest('hex')}`;
      const sizeOk = this.#expectedSize === undefined || this.#expectedSize === this.#bytesWritten;
      if (actual !== this.#digest || !sizeOk) throw this.#mismatch(actual, this.#bytesWritten);
      onVerified?.();
      await this.#sink.commit(this.#bytesWritten, this.#controller.signal);
      this.#committed = true;
    } catch (err) {
      const reason = this.#aborted ? this.#abortReason : err;
      await this.#discard();
      throw reason;
    } finally {
      this.#detachSignal();
    }
  }

  async #endStream(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.stream.writableFinished) return;
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
    await finished(this.stream, { readable: false });
    if (this.#failure !== undefined) throw this.#failure;
  }

  #discard(): Promise<void> {
    this.#discardResult ??= (async () => {
      this.#detachSignal();
      this.stream.destroy();
      await this.#inflight;
      await this.#sink.abort().catch(() => undefined);
    })();
    return this.#discardResult;
  }

  #throwIfAborted(): void {
    if (this.#aborted) throw this.#abortReason;
  }

  #mismatch(actualDigest: string | undefined, actualSize: number): BlobDigestMismatchError {
    return new BlobDigestMismatchError({
      expectedDigest: this.#digest,
      actualDigest,
      expectedSize: this.#expectedSize,
      actualSize,
    });
  }

  readonly #onSignal = (): void => {
    void this.abort(this.#signal?.reason);
  };

  #detachSignal(): void {
    this.#signal?.removeEventListener('abort', this.#onSignal);
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
