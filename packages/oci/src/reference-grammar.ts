import { DigestInvalidError, NameInvalidError } from '@vreg/contracts';

// The OCI distribution spec's grammar (spec.md, "Pulling manifests").
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_GRAMMAR_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DIGEST_ENCODINGS: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** Longest repository name accepted (distribution's limit for the whole name). */
export const MAX_NAME_LENGTH = 255;

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Whether `name` follows the spec's repository name grammar and length limit. */
export function isRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/** Whether `digest` is well formed per the spec's grammar, whatever its algorithm. */
export function isDigestGrammar(digest: string): boolean {
  return digest.length <= 200 && DIGEST_GRAMMAR_RE.test(digest);
}

/** Throws NAME_INVALID unless `name` follows the spec's repository name grammar. */
export function assertRepositoryName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new NameInvalidError(`repository name must be 1 to ${MAX_NAME_LENGTH} characters`, { name: name.slice(0, 300) });
  }
  if (!NAME_RE.test(name)) throw new NameInvalidError('invalid repository name', { name });
}

export function isTag(reference: string): boolean {
  return TAG_RE.test(reference);
}

/**
 * Splits and checks a digest. Throws DIGEST_INVALID for anything but a
 * well-formed sha256 or sha512 digest (other algorithms are refused: we
 * cannot verify them).
 */
export function parseDigest(digest: string): { algorithm: DigestAlgorithm; hex: string } {
  if (digest.length > 200 || !DIGEST_GRAMMAR_RE.test(digest)) {
    throw new DigestInvalidError('invalid digest', { digest: digest.slice(0, 200) });
  }
  const i = digest.indexOf(':');
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const encoding = DIGEST_ENCODINGS[algorithm];
  if (encoding === undefined) throw new DigestInvalidError(`unsupported digest algorithm ${algorithm}`, { digest });
  if (!encoding.test(hex)) throw new DigestInvalidError(`invalid ${algorithm} digest`, { digest });
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

export function isDigest(reference: string): boolean {
  return reference.includes(':');
}

/**
 * A manifest reference is a tag or a digest. A bad digest is DIGEST_INVALID;
 * the spec has no pull-side code for a malformed tag, so it is NAME_INVALID
 * (the tag is part of the reference name) with the tag in the detail.
 */
export function assertManifestReference(reference: string): 'tag' | 'digest' {
  if (isDigest(reference)) {
    parseDigest(reference);
    return 'digest';
  }
  if (!isTag(reference)) throw new NameInvalidError('invalid tag', { reference: reference.slice(0, 200) });
  return 'tag';
}
