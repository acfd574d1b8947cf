/**
 * Errors thrown by blob stores: AppError subclasses, each with its code from
 * `@vreg/contracts`' `ErrorCodes` (check by code, never by class or message),
 * keeping the foreign error as `cause`.
 */
import { AppError, type ErrorCode, ErrorCodes } from '@vreg/contracts';

/** Base of every error this package throws on purpose. */
export class BlobStoreError extends AppError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** What a digest mismatch looked like: what was promised and what arrived. */
export interface DigestMismatchDetail {
  /** The digest the write was begun with. */
  expectedDigest: string;
  /**
   * Digest of the bytes actually written, or `undefined` when the write was
   * stopped before its end (more bytes arrived than `expectedSize`).
   */
  actualDigest: string | undefined;
  /** The size the write was begun with, when one was given. */
  expectedSize: number | undefined;
  /** Bytes actually written (so far, when `actualDigest` is undefined). */
  actualSize: number;
}

/**
 * The bytes written do not hash to the digest they were written under, or
 * their count differs from the expected size. Nothing was made visible.
 */
export class BlobDigestMismatchError extends BlobStoreError implements DigestMismatchDetail {
  /** The digest the write was begun with. */
  readonly expectedDigest: string;
  /** Digest of the bytes written; `undefined` when the write was cut short. */
  readonly actualDigest: string | undefined;
  /** The size the write was begun with, when one was given. */
  readonly expectedSize: number | undefined;
  /** Bytes written. */
  readonly actualSize: number;

  constructor(detail: DigestMismatchDetail) {
    const what =
      detail.actualDigest === undefined
        ? `more than ${detail.expectedSize} bytes were written`
        : `got ${detail.actualDigest} (${detail.actualSize} bytes)`;
    const size = detail.expectedSize === undefined ? '' : ` (${detail.expectedSize} bytes)`;
    super(ErrorCodes.blobDigestMismatch, `blob does not match ${detail.expectedDigest}${size}: ${what}`);
    this.expectedDigest = detail.expectedDigest;
    this.actualDigest = detail.actualDigest;
    this.expectedSize = detail.expectedSize;
    this.actualSize = detail.actualSize;
  }
}

/**
 * A digest string is not `sha256:<64 lowercase hex>` or
 * `sha512:<128 lowercase hex>`. Thrown before any key or path is built.
 */
export class InvalidDigestError extends BlobStoreError {
  /** The rejected input, cut to 200 characters so logs stay small. */
  readonly digest: string;

  constructor(digest: unknown) {
    const shown = String(digest).slice(0, 200);
    super(ErrorCodes.digestInvalid, `invalid digest ${JSON.stringify(shown)}`);
    this.digest = shown;
  }
}

/**
 * A requested byte range cannot be served from a blob of `size` bytes (start
 * past the end, end before start, negative or fractional offsets). The
 * gateway answers 416 with `Content-Range: bytes * /size`.
 */
export class BlobRangeInvalidError extends BlobStoreError {
  /** Size in bytes of the stored blob, when known. */
  readonly size: number | undefined;

  constructor(message: string, size?: number) {
    super(ErrorCodes.rangeInvalid, message);
    this.size = size;
  }
}

/**
 * The backend failed (S3 or network error, file-system error) for a reason
 * other than "not found". Usually transient; `cause` holds the original.
 */
export class BlobStoreUnavailableError extends BlobStoreError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.blobStoreUnavailable, message, { cause });
  }
}
