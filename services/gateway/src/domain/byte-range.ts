import { RangeInvalidError } from '@vreg/contracts';

/** A single byte range as a client asked for it, before the blob's size is known. */
export type RequestedRange = { start: number; end?: number } | { suffix: number };

/** A range resolved against the blob: both ends inclusive. */
export interface SatisfiedRange {
  start: number;
  end: number;
  /** The whole blob's size, for `Content-Range`; undefined when unknown. */
  size: number | undefined;
}

/**
 * Reads a `Range` header (RFC 9110 §14.1.2). No header, another unit or
 * several ranges → undefined: the whole blob is served (the RFC lets a
 * server ignore Range). A malformed `bytes=` spec → RANGE_INVALID.
 */
export function parseRangeHeader(header: string | undefined): RequestedRange | undefined {
  if (header === undefined) return undefined;
  const m = header.trim().match(/^bytes\s*=\s*(.*)$/i);
  if (!m) return undefined;
  const spec = m[1]!.trim();
  if (spec.includes(',')) return undefined;
  const parts = spec.match(/^(\d*)\s*-\s*(\d*)$/);
  if (!parts || (parts[1] === '' && parts[2] === '')) throw new RangeInvalidError(`malformed range: ${header.slice(0, 100)}`);
  const [, a, b] = parts as unknown as [string, string, string];
  if (a === '') return { suffix: Number(b) };
  const start = Number(a);
  if (b === '') return { start };
  const end = Number(b);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start)
    throw new RangeInvalidError(`malformed range: ${header.slice(0, 100)}`);
  return { start, end };
}

/**
 * Resolves a requested range against a blob of `size` bytes.
 * @throws RANGE_INVALID (416) when no byte of the range is inside the blob.
 */
export function satisfyRange(range: RequestedRange, size: number | undefined): SatisfiedRange {
  if ('suffix' in range) {
    if (size === undefined || range.suffix === 0 || size === 0) throw unsatisfiable(size);
    return { start: Math.max(0, size - range.suffix), end: size - 1, size };
  }
  if (size !== undefined && range.start >= size) throw unsatisfiable(size);
  const last = size === undefined ? range.end : Math.min(range.end ?? size - 1, size - 1);
  if (last === undefined) throw unsatisfiable(size);
  return { start: range.start, end: last, size };
}

function unsatisfiable(size: number | undefined): RangeInvalidError {
  return new RangeInvalidError('range not satisfiable', size === undefined ? undefined : { size });
}
