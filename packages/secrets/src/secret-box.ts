import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const V1 = 'v1';
const V2 = 'v2';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The id of a key as sealed values name it: the first 8 bytes of the key's
 * sha256, base64url (11 characters). Stable (the same key always has the
 * same id, in every process) and safe to show: a hash of 32 random bytes
 * tells nothing about them. An operator can compute it with
 * `printf %s <hex key> | xxd -r -p | sha256sum | cut -c1-16` (hex of the
 * same 8 bytes).
 */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

/**
 * Seals secrets at rest (upstream passwords) and on the bus (presented
 * access tokens) with AES-256-GCM.
 *
 * Sealed form: `v2.<kid>.<iv>.<tag>.<ciphertext>` (each part base64url),
 * where `kid` is {@link secretKeyId} of the key that sealed it and
 * `v2.<kid>` is bound to the ciphertext as associated data, so the header
 * cannot be altered without `open` refusing the value.
 *
 * Rotation: a box holds one current key, which seals, and any number of
 * previous keys, which only open. `open` picks the key by the value's kid;
 * {@link reseal} moves a value to the current key. Values in the older
 * `v1.<iv>.<tag>.<ciphertext>` form (no kid) still open with any configured
 * key, each tried in turn.
 */
export class SecretBox {
  readonly #current: Buffer;
  /** Every key by id, the current one included. */
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** The current key's id: what `seal` writes into every value. */
  readonly keyId: string;

  /**
   * @param key the current key, 32 bytes
   * @param previous keys retired from sealing that still open (32 bytes
   *   each); a repeat of the current key is ignored
   * @throws Error when a key is not 32 bytes or two different keys share an id
   */
  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    const keys = new Map<string, Buffer>();
    for (const [i, k] of [key, ...previous].entries()) {
      if (k.length !== KEY_BYTES) throw new Error(i === 0 ? 'secret key must be 32 bytes' : `previous secret key ${i} must be 32 bytes`);
      const id = secretKeyId(k);
      const seen = keys.get(id);
      if (seen !== undefined && !seen.equals(k)) throw new Error(`two secret keys share the key id ${id}`);
      if (seen === undefined) keys.set(id, Buffer.from(k));
    }
    this.#current = Buffer.from(key);
    this.keyId = secretKeyId(key);
    this.#keys = keys;
  }

  /** Ids of the keys that open values, the current one first. */
  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** Seals `plaintext` with the current key: `v2.<kid>.<iv>.<tag>.<ciphertext>`. */
  seal(plaintext: string): string {
    const header = `${V2}.${this.keyId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    cipher.setAAD(Buffer.from(header, 'ascii'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [header, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /**
   * Opens a value sealed by this box or by one holding any of its keys.
   * @throws Error when the value is not a sealed secret, names a key this box
   *   does not hold, or was altered (messages never quote the value)
   */
  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts[0] === V2 && parts.length === 5) {
      const [, kid, iv, tag, body] = parts as [string, string, string, string, string];
      const key = this.#keys.get(kid);
      if (key === undefined) throw new Error(`sealed with an unknown key (key id ${kid.slice(0, 16)})`);
      return decrypt(key, iv, tag, body, `${V2}.${kid}`);
    }
    if (parts[0] === V1 && parts.length === 4) {
      const [, iv, tag, body] = parts as [string, string, string, string];
      // v1 values name no key: the right one is the one whose tag verifies.
      for (const key of this.#keys.values()) {
        try {
          return decrypt(key, iv, tag, body, undefined);
        } catch {
          // not this key; try the next
        }
      }
      throw new Error('sealed (v1) with none of the configured keys, or altered');
    }
    throw new Error('not a sealed secret');
  }

  /** Whether `sealed` is in the current form and key, so {@link reseal} would leave it as it is. Does not verify it. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`${V2}.${this.keyId}.`);
  }

  /**
   * The value sealed with the current key in the current form: the same
   * string when it already is (after checking that it opens), a new one
   * otherwise. Store the result when it differs.
   * @throws Error as {@link open}
   */
  reseal(sealed: string): string {
    const plaintext = this.open(sealed);
    return this.isCurrent(sealed) ? sealed : this.seal(plaintext);
  }
}

function decrypt(key: Buffer, iv: string, tag: string, body: string, aad: string | undefined): string {
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  // A short tag would weaken GCM's check: only the full 16 bytes are accepted.
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'ascii'));
  decipher.setAuthTag(tagBytes);
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // No cause: nothing from the value belongs in an error.
    throw new Error('sealed secret does not verify (altered, or another key)');
  }
}

/** sha256 hex of a token, for storing access tokens as hashes. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (admin tokens). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
