import { createHash, type Hash } from 'node:crypto';
import { parseDigest } from './reference-grammar.ts';

/** Incremental hash for the algorithm a digest names; `matches()` once all bytes went through. */
export class DigestHasher {
  readonly expected: string;
  readonly #hash: Hash;
  readonly #algorithm: string;
  #bytes = 0;

  /** Throws DIGEST_INVALID for an unsupported or malformed digest. */
  constructor(expectedDigest: string) {
    this.#algorithm = parseDigest(expectedDigest).algorithm;
    this.expected = expectedDigest;
    this.#hash = createHash(this.#algorithm);
  }

  update(chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#hash.update(chunk);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Finishes the hash: call once. */
  actual(): string {
    return `${this.#algorithm}:${this.#hash.digest('hex')}`;
  }
}

/** `sha256:<hex>` of a buffer. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The digest of `bytes` with the algorithm `digest` names. */
export function digestWithAlgorithmOf(digest: string, bytes: Buffer): string {
  const { algorithm } = parseDigest(digest);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
