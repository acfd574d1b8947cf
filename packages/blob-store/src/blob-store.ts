import type { Readable, Writable } from 'node:stream';

/** What is known about a stored blob without reading it. */
export interface BlobStat {
  /** Size of the blob in bytes. */
  size: number;
}

/** Options of {@link BlobRead.writeTo}. */
export interface BlobWriteToOptions {
  /** Stops the write between chunks (it rejects with the reason). */
  signal?: AbortSignal;
  /** Called with each chunk's length once the destination took it (bytes served, for metrics). */
  onWritten?: (bytes: number) => void;
}

/**
 * An open read of a stored blob (or of a range of it). Consume it once:
 * through `body`, or through `writeTo` where the backend offers it.
 */
export interface BlobRead {
  /**
   * The bytes, streamed. The caller must consume or `destroy()` it: an
   * abandoned body may hold a file handle or a connection until GC.
   */
  readonly body: Readable;
  /** Length in bytes of `body` (the range's length for a range read). */
  readonly size: number;
  /**
   * Writes every byte to `destination` (an HTTP response) without ending
   * it, reusing the backend's read buffers once `destination` has taken
   * each chunk, so serving allocates nothing per chunk. Resolves once the
   * last byte was taken. Rejects when a read fails, when the destination
   * errors or closes first, or when `signal` aborts; the read is released
   * in every case. Absent when the backend only streams.
   * @throws BlobStoreUnavailableError when the stored bytes cannot be read (or end early).
   */
  writeTo?(destination: Writable, options?: BlobWriteToOptions): Promise<void>;
}

/** A byte range like HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  /** Offset of the first byte, 0-based. */
  start: number;
  /** Offset of the last byte, inclusive; clamped to the blob's last byte; absent = to the end. */
  end?: number;
}

/**
 * Positional reads of the bytes a write has put in a local file so far (the
 * file-system store's temp file). A fill's readers that fall behind read the
 * bytes back from there, so a miss is written to local disk once.
 */
export interface WrittenBytes {
  /**
   * Reads up to `buffer.length` bytes at `position` into `buffer`; resolves
   * how many were read. Bytes are there once the stream's write callback for
   * them fired.
   * @throws BlobStoreUnavailableError when the file cannot be read.
   */
  read(buffer: Buffer, position: number): Promise<number>;
  /** Closes this read handle; the file itself stays the write's (renamed on commit, removed on abort). */
  close(): Promise<void>;
}

/**
 * One write of a blob whose digest is known in advance. Bytes go to
 * `stream`; nothing is visible under the digest until `commit()` has checked
 * that they hash to it. Typical use:
 *
 * ```ts
 * const writer = await store.beginWrite(digest, { expectedSize, signal });
 * try {
 *   await pipeline(source, writer.stream);
 *   await writer.commit();
 * } catch (err) {
 *   await writer.abort(err);
 *   throw err;
 * }
 * ```
 */
export interface BlobWriter {
  /**
   * Writable that receives the bytes in order; honours backpressure (a
   * write's callback fires once the backend has taken the chunk). Errors
   * with a `BlobDigestMismatchError` as soon as more than `expectedSize`
   * bytes arrive, and with a `BlobStoreUnavailableError` when the backend fails.
   */
  readonly stream: Writable;
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
  /**
   * Makes the object visible under its digest. Ends `stream` if the caller
   * has not, then verifies that the bytes written hash to the digest and
   * (if given) have `expectedSize`. Calling it again returns the same result.
   * If the object already exists, succeeds (content addressed: identical bytes).
   * @throws BlobDigestMismatchError on mismatch, after discarding everything.
   * @throws BlobStoreUnavailableError when the backend fails; nothing is visible.
   * @throws the abort reason when the write was aborted (or its signal fired).
   */
  commit(options?: {
    /** Called once the bytes are verified, before they are made durable (fsync, multipart completion): readers waiting on the digest may go on. */
    onVerified?: () => void;
  }): Promise<void>;
  /**
   * Present when the backend writes to a local file: opens that file for
   * reading. Call it before `commit()` or `abort()`; the handle stays valid
   * after either, until closed.
   * @throws BlobStoreUnavailableError when the file cannot be opened.
   */
  openWrittenBytes?(): Promise<WrittenBytes>;
  /**
   * Discards everything written; nothing becomes visible. Destroys `stream`
   * and cancels backend requests in flight. Safe to call twice, after a
   * failure, or after `commit()` (then a no-op). Never rejects: cleanup is
   * best effort (leftovers are temp files / incomplete multipart uploads
   * that the adapters' sweeps and bucket lifecycle rules remove).
   * @param reason why; becomes the rejection of a pending or later `commit()`.
   */
  abort(reason?: unknown): Promise<void>;
}

/**
 * Content-addressed storage for blobs and manifests, keyed by digest
 * (`sha256:<hex>` or `sha512:<hex>`). Every method validates its digest
 * first and throws `InvalidDigestError` for anything else.
 */
export interface BlobStore {
  /**
   * Size of a stored blob.
   * @returns `undefined` when no blob is stored under `digest`.
   * @throws InvalidDigestError, BlobStoreUnavailableError
   */
  stat(digest: string, signal?: AbortSignal): Promise<BlobStat | undefined>;

  /**
   * Opens a blob (or a range of it) for reading; `size` is the length of the
   * returned body.
   * @returns `undefined` when no blob is stored under `digest`.
   * @throws BlobRangeInvalidError when `range` is not inside the blob.
   * @throws InvalidDigestError, BlobStoreUnavailableError
   */
  get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined>;

  /**
   * Starts a write of an object whose digest is known in advance. The
   * writer hashes the bytes as they pass, so a commit can never make visible
   * bytes that do not hash to `digest`. Aborting `signal` aborts the write.
   * @param opts.expectedSize size in bytes when known (e.g. from a manifest
   *   descriptor): checked at commit, and the write fails as soon as it is exceeded.
   * @throws InvalidDigestError, BlobStoreUnavailableError
   */
  beginWrite(digest: string, opts?: { expectedSize?: number; signal?: AbortSignal }): Promise<BlobWriter>;

  /**
   * Removes a blob. Absent is fine. Reads already open may still complete.
   * @throws InvalidDigestError, BlobStoreUnavailableError
   */
  delete(digest: string): Promise<void>;

  /**
   * A presigned GET URL valid for `expiresInSeconds`, for redirecting clients
   * straight to the backend. Absent when the backend cannot presign; resolves
   * `undefined` when it cannot for this blob.
   */
  presignGet?(digest: string, expiresInSeconds: number): Promise<string | undefined>;

  /**
   * For readiness: proves the store takes a write now (S3: puts and deletes
   * a small object under the reserved `_vreg/readiness/` prefix, outside
   * `blobs/`). Absent when a read proves as much (a disk the process made).
   * @throws BlobStoreUnavailableError saying what is wrong (the bucket does not exist, refuses writes...).
   */
  probeWritable?(signal?: AbortSignal): Promise<void>;

  /** Releases connections and handles. The store is unusable afterwards. */
  close?(): Promise<void>;
}
