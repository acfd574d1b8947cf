import { createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { parseKey, splitList } from '@vreg/contracts';
import { signJws, verifyJws } from './jws.ts';

/** Most keys verified at once: the signing key and the one being rotated out (or in). */
export const MAX_TOKEN_KEYS = 2;

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): a fixed 16-byte prefix.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface RingKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh Ed25519 seed as 64 hex chars, for a key file or `VREG_TOKEN_SIGNING_KEYS`. */
export function newTokenSigningSeed(): string {
  return randomBytes(32).toString('hex');
}

/** RFC 7638 thumbprint of an Ed25519 public key: base64url(sha256('{"crv":"Ed25519","kty":"OKP","x":"..."}')). */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
}

function keyOf(seed: Buffer): RingKey {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { kid: thumbprint(publicKey), privateKey, publicKey };
}

/**
 * The gateway's token signing keys: the first signs, every one verifies, so
 * keys rotate without refusing live tokens (add the new key second on every
 * replica, then move it first, then drop the old one after a token lifetime).
 * Every replica holding the same keys verifies any replica's tokens with no
 * database round trip. The `kid` of a key is its JWK thumbprint, so it is
 * the same everywhere without being configured.
 */
export class TokenKeyRing {
  readonly #keys: readonly RingKey[];

  private constructor(keys: RingKey[]) {
    if (keys.length === 0 || keys.length > MAX_TOKEN_KEYS) throw new Error(`between 1 and ${MAX_TOKEN_KEYS} token signing keys are needed`);
    this.#keys = keys;
  }

  /** From raw 32-byte Ed25519 seeds, signing key first. */
  static fromSeeds(seeds: readonly Buffer[]): TokenKeyRing {
    return new TokenKeyRing(seeds.map(keyOf));
  }

  /**
   * From `VREG_TOKEN_SIGNING_KEYS`: comma-separated seeds (64 hex chars or base64).
   * @throws Error naming the first bad entry.
   */
  static parse(value: string): TokenKeyRing {
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
  static deriveFrom(secretKey: Buffer): TokenKeyRing {
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

  /** A compact JWS of `payload` signed with the first key. */
  sign(payload: object): string {
    const key = this.#keys[0] as RingKey;
    return signJws(payload, key.kid, key.privateKey);
  }

  /** The payload of a token one of the ring's keys signed. @throws JwsError */
  verify(token: string): Record<string, unknown> {
    return verifyJws(token, (kid) => this.#keys.find((k) => k.kid === kid)?.publicKey);
  }
}
