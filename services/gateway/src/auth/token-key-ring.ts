import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { parseKey, splitList } from '@vreg/contracts';
import {
  calculateJwkThumbprint,
  errors,
  type JWK,
  type JWTClaimVerificationOptions,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { RegistryTokenRefusedError } from './token-refused-error.ts';

/** Most keys verified at once: the signing key and the one being rotated out (or in). */
export const MAX_TOKEN_KEYS = 2;

/** The one algorithm vreg signs with and accepts: EdDSA over Ed25519 (RFC 8037). */
const ALG = 'EdDSA';

/**
 * Longest token looked at, in characters: a grant of many repositories stays
 * far below, and nothing longer is decoded at all.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

interface RingKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh Ed25519 seed as 64 hex chars, for a key file or `VREG_TOKEN_SIGNING_KEYS`. */
export function newTokenSigningSeed(): string {
  return randomBytes(32).toString('hex');
}

/** A key from its 32-byte seed; its kid is the public key's JWK thumbprint (RFC 7638), the same wherever it is loaded. */
async function keyOf(seed: Buffer): Promise<RingKey> {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: seed, format: 'raw-private', asymmetricKeyType: 'ed25519' });
  const publicKey = createPublicKey(privateKey);
  return { kid: await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK), privateKey, publicKey };
}

/** Why jose refused a token, in the words the gateway logs. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'issuer';
    if (err.claim === 'aud') return 'audience';
    if (err.claim === 'nbf') return 'not yet valid';
    return `claim ${err.claim}: ${err.reason}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'unsupported alg';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown kid';
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  return 'unreadable';
}

/**
 * The gateway's token signing keys: the first signs, every one verifies, so
 * keys rotate without refusing live tokens (add the new key second on every
 * replica, then move it first, then drop the old one after a token lifetime).
 * Every replica holding the same keys verifies any replica's tokens with no
 * database round trip. Signing and verifying are jose's (SignJWT,
 * jwtVerify): only EdDSA is allowed, so `none`, HMAC with the public key as
 * the secret and the other algorithm confusions are refused before any key
 * is chosen; the key is chosen by the header's kid alone.
 */
export class TokenKeyRing {
  readonly #keys: readonly RingKey[];

  private constructor(keys: RingKey[]) {
    if (keys.length === 0 || keys.length > MAX_TOKEN_KEYS) throw new Error(`between 1 and ${MAX_TOKEN_KEYS} token signing keys are needed`);
    this.#keys = keys;
  }

  /** From raw 32-byte Ed25519 seeds, signing key first. */
  static async fromSeeds(seeds: readonly Buffer[]): Promise<TokenKeyRing> {
    return new TokenKeyRing(await Promise.all(seeds.map(keyOf)));
  }

  /**
   * From `VREG_TOKEN_SIGNING_KEYS`: comma-separated seeds (64 hex chars or base64).
   * @throws Error naming the first bad entry.
   */
  static async parse(value: string): Promise<TokenKeyRing> {
    return TokenKeyRing.fromSeeds(
      splitList(value).map((p, i) => {
        const seed = parseKey(p);
        if (seed === undefined) throw new Error(`token signing key ${i + 1} is not 32 bytes as 64 hex chars or base64`);
        return seed;
      }),
    );
  }

  /**
   * One key derived from the secrets key with HKDF-SHA256 (a separate
   * purpose label), for installs that configure no signing keys: every
   * replica shares the secrets key, so they share this key too.
   */
  static deriveFrom(secretKey: Buffer): Promise<TokenKeyRing> {
    const seed = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'vreg registry token signing key v1', 32));
    return TokenKeyRing.fromSeeds([seed]);
  }

  /** kid of the key that signs new tokens. */
  get signingKid(): string {
    return (this.#keys[0] as RingKey).kid;
  }

  /** Every kid this ring verifies. */
  get kids(): string[] {
    return this.#keys.map((k) => k.kid);
  }

  /** A compact JWS (`typ: JWT`) of `payload` signed with the first key. */
  sign(payload: JWTPayload): Promise<string> {
    const key = this.#keys[0] as RingKey;
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /**
   * The payload of a token one of the ring's keys signed, checked by jose
   * against `claims` (issuer, audience, times at `currentDate` with
   * `clockTolerance`, required claims). A `crit` header is refused (vreg
   * understands no extension), as is any token longer than MAX_TOKEN_LENGTH.
   * @throws RegistryTokenRefusedError naming the failed check in `reason`
   */
  async verify(token: string, claims: JWTClaimVerificationOptions = {}): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new RegistryTokenRefusedError('token too long');
    try {
      const { payload } = await jwtVerify(token, (header) => this.#keyFor(header), { ...claims, algorithms: [ALG], typ: 'JWT' });
      return payload;
    } catch (err) {
      throw new RegistryTokenRefusedError(reasonOf(err));
    }
  }

  /** The verification key the header's kid names; a key is never guessed from anything else. */
  #keyFor(header: JWTHeaderParameters): KeyObject {
    const key = this.#keys.find((k) => k.kid === header.kid);
    if (key === undefined) throw new errors.JWKSNoMatchingKey();
    return key.publicKey;
  }
}
