import { InvalidDigestError } from './errors.ts';

/** Hash algorithms a blob digest may name. */
export const DigestAlgorithms = {
  sha256: 'sha256',
  sha512: 'sha512',
} as const;
export type DigestAlgorithm = (typeof DigestAlgorithms)[keyof typeof DigestAlgorithms];

/** A digest split into its parts, after validation. */
export interface ParsedDigest {
  /** The hash algorithm, also the `node:crypto` hash name. */
  algorithm: DigestAlgorithm;
  /** The lowercase hex encoding of the hash. */
  hex: string;
}

// Anchored, lowercase only, exact length: the only strings we ever turn into
// keys or paths, so `..`, `/` or NUL can never reach the storage layer.
const DIGEST_PATTERN = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/**
 * Validates a digest string and splits it.
 * @throws InvalidDigestError unless `digest` is `sha256:<64 lowercase hex>` or
 *   `sha512:<128 lowercase hex>`.
 */
export function parseDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
    throw new InvalidDigestError(digest);
  }
  const colon = digest.indexOf(':');
  return { algorithm: digest.slice(0, colon) as DigestAlgorithm, hex: digest.slice(colon + 1) };
}

/** True when `digest` is a valid blob digest (see {@link parseDigest}). */
export function isValidDigest(digest: string): boolean {
  return typeof digest === 'string' && DIGEST_PATTERN.test(digest);
}

/**
 * The storage key of a blob, relative to the store's root or prefix:
 * `blobs/<algorithm>/<first 2 hex>/<full hex>`.
 * @throws InvalidDigestError for an invalid digest.
 */
export function blobKey(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
}
