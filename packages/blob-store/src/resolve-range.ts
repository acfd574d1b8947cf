import type { ByteRange } from './blob-store.ts';
import { BlobRangeInvalidError } from './errors.ts';

/** A byte range checked against a blob's size: both ends inclusive and inside the blob. */
export interface ResolvedRange {
  /** Offset of the first byte. */
  start: number;
  /** Offset of the last byte (inclusive). */
  end: number;
  /** Number of bytes in the range: `end - start + 1`. */
  length: number;
}

/**
 * Resolves an HTTP-style range against a blob of `size` bytes. An `end` past
 * the last byte is clamped to it, as RFC 9110 does for `bytes=a-b`.
 * @throws BlobRangeInvalidError when offsets are not non-negative integers,
 *   `end < start`, or `start` is not inside the blob (always so when `size` is 0).
 */
export function resolveRange(range: ByteRange, size: number): ResolvedRange {
  checkRange(range, size);
  const { start, end } = range;
  if (start >= size) {
    throw new BlobRangeInvalidError(`range start ${start} is past the end of a ${size}-byte blob`, size);
  }
  const last = Math.min(end ?? size - 1, size - 1);
  return { start, end: last, length: last - start + 1 };
}

/**
 * Checks what can be checked without the blob's size: integer offsets,
 * `start >= 0`, `end >= start`.
 * @param size the blob's size when known, for the error.
 * @throws BlobRangeInvalidError
 */
export function checkRange(range: ByteRange, size?: number): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new BlobRangeInvalidError(`range start ${start} is not a non-negative integer`, size);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new BlobRangeInvalidError(`range end ${end} is not an integer >= start ${start}`, size);
  }
}
