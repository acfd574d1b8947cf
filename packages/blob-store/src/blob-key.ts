import { parseDigest as parseOciDigest } from '@vreg/oci';
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

/**
 * Validates a digest string and splits it, with the spec's grammar from
 * @vreg/oci: sha256 or sha512, lowercase hex of the exact length. These are
 * the only strings we ever turn into keys or paths, so `..`, `/` or NUL can
 * never reach the storage layer.
 * @throws InvalidDigestError for anything else.
 */
export function parseDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string') throw new InvalidDigestError(String(digest));
  try {
    return parseOciDigest(digest);
  } catch {
    throw new InvalidDigestError(digest);
  }
}

/** True when `digest` is a valid blob digest (see {@link parseDigest}). */
export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
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
