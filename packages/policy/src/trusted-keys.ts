import { crypto as sigstoreCrypto } from '@sigstore/core';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import type { TrustedKey } from '@vreg/contracts';

/** A trusted key ready to verify with: its name, the parsed key and the digest cosign signs with for its type. */
export interface ParsedKey {
  name: string;
  key: sigstoreCrypto.KeyObject;
  hash: HashAlgorithm;
}

/** A key an operator gave that vreg cannot verify with; the message says why, for a 400. */
export class UnusableKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableKeyError';
  }
}

/** RSA keys shorter than this are refused: NIST retired 1024-bit RSA in 2013. */
const RSA_MIN_BITS = 2048;

/**
 * Parses a PEM public key as cosign uses it. The digest follows the key,
 * as sigstore signs: ECDSA P-256 with SHA-256, P-384 with SHA-384, P-521
 * with SHA-512, RSA (PKCS#1 v1.5) with SHA-256. Ed25519 is refused: cosign
 * signs with Ed25519ph, which neither sigstore-js nor Node verifies, so such
 * a key would silently refuse every image.
 * @throws UnusableKeyError with the reason.
 */
export function parseTrustedKey(key: TrustedKey): ParsedKey {
  if (!key.pem.includes('-----BEGIN PUBLIC KEY-----'))
    throw new UnusableKeyError(`key ${JSON.stringify(key.name)} is not a PEM public key (-----BEGIN PUBLIC KEY-----), as cosign.pub is`);
  let parsed: sigstoreCrypto.KeyObject;
  try {
    parsed = sigstoreCrypto.createPublicKey(key.pem);
  } catch {
    throw new UnusableKeyError(`key ${JSON.stringify(key.name)} is not a readable PEM public key`);
  }
  const type = parsed.asymmetricKeyType;
  if (type === 'ec') {
    const curve = parsed.asymmetricKeyDetails?.namedCurve;
    const hash =
      curve === 'prime256v1'
        ? HashAlgorithm.SHA2_256
        : curve === 'secp384r1'
          ? HashAlgorithm.SHA2_384
          : curve === 'secp521r1'
            ? HashAlgorithm.SHA2_512
            : undefined;
    if (hash === undefined)
      throw new UnusableKeyError(`key ${JSON.stringify(key.name)}: ECDSA curve ${curve} is not supported (P-256, P-384, P-521)`);
    return { name: key.name, key: parsed, hash };
  }
  if (type === 'rsa') {
    const bits = parsed.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS)
      throw new UnusableKeyError(`key ${JSON.stringify(key.name)}: RSA keys need at least ${RSA_MIN_BITS} bits, this one has ${bits}`);
    return { name: key.name, key: parsed, hash: HashAlgorithm.SHA2_256 };
  }
  if (type === 'ed25519')
    throw new UnusableKeyError(
      `key ${JSON.stringify(key.name)} is Ed25519: cosign signs with such keys as Ed25519ph, which vreg cannot verify; use an ECDSA P-256 key (cosign generate-key-pair)`,
    );
  throw new UnusableKeyError(`key ${JSON.stringify(key.name)}: ${type ?? 'unknown'} keys are not supported (ECDSA P-256/384/521, RSA)`);
}

/** Hash name for `crypto.digest`. */
export function hashName(hash: HashAlgorithm): 'sha256' | 'sha384' | 'sha512' {
  return hash === HashAlgorithm.SHA2_512 ? 'sha512' : hash === HashAlgorithm.SHA2_384 ? 'sha384' : 'sha256';
}

const parsedCache = new Map<string, ParsedKey>();
const PARSED_CACHE_MAX = 1000;

/** The usable keys of a set, parsed once per PEM and name; keys that cannot be used are left out (the catalog refused them already). */
export function parseKeySet(keys: readonly TrustedKey[]): ParsedKey[] {
  const out: ParsedKey[] = [];
  for (const key of keys) {
    const id = `${key.name}\n${key.pem}`;
    let parsed = parsedCache.get(id);
    if (parsed === undefined) {
      try {
        parsed = parseTrustedKey(key);
      } catch {
        continue;
      }
      if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.clear();
      parsedCache.set(id, parsed);
    }
    out.push(parsed);
  }
  return out;
}

/**
 * What a verdict depends on: the sha256 of the set of trusted keys (their
 * SubjectPublicKeyInfo, sorted; names do not count). Verdicts are cached
 * under it, so adding or removing a key re-verifies, renaming one does not.
 */
export function keySetFingerprint(keys: readonly ParsedKey[]): string {
  const ders = keys.map((k) => k.key.export({ type: 'spki', format: 'der' }).toString('hex')).sort();
  return sigstoreCrypto.digest('sha256', [...new Set(ders)].join('\n')).toString('hex');
}
