import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, safeEqual, secretKeyId } from './secret-box.ts';

/** A value as the v1 SecretBox sealed it (no key id, no associated data). */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** Flips one bit of a base64url part. */
function flip(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64url');
}

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('opens what it sealed and never shows the plaintext in the sealed form', () => {
    const sealed = box.seal('hunter2-password');
    expect(sealed).not.toContain('hunter2');
    expect(box.open(sealed)).toBe('hunter2-password');
    expect(box.seal('hunter2-password')).not.toBe(sealed); // a fresh IV every time
  });

  it('seals as v2.<kid>.<iv>.<tag>.<ciphertext>, kid being the first 8 bytes of sha256(key) in base64url', () => {
    const kid = createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
    expect(secretKeyId(key)).toBe(kid);
    expect(box.keyId).toBe(kid);
    const parts = box.seal('x').split('.');
    expect(parts).toHaveLength(5);
    expect(parts.slice(0, 2)).toEqual(['v2', kid]);
    expect(kid).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(new SecretBox(Buffer.from(key)).keyId).toBe(kid); // stable across instances
  });

  it('refuses a value sealed with another key, naming only the key id', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => box.open(other.seal('x'))).toThrow(`unknown key (key id ${other.keyId})`);
  });

  it.each([
    ['the iv', 2],
    ['the tag', 3],
    ['the ciphertext', 4],
  ])('refuses a value whose %s was altered', (_what, index) => {
    const parts = box.seal('secret').split('.');
    parts[index] = flip(parts[index] as string);
    expect(() => box.open(parts.join('.'))).toThrow();
  });

  it('refuses a value whose key id was swapped for another configured key', () => {
    const previous = randomBytes(32);
    const rotated = new SecretBox(key, [previous]);
    const parts = rotated.seal('secret').split('.');
    parts[1] = secretKeyId(previous);
    expect(() => rotated.open(parts.join('.'))).toThrow(/does not verify/);
  });

  it.each(['', 'secret', 'v3.a.b.c.d', 'v2.a.b.c', 'v1.a.b', `v2.${secretKeyId(randomBytes(32))}.AAAA.AAAA.AAAA`])(
    'refuses %j as not a sealed secret',
    (value) => {
      expect(() => box.open(value)).toThrow();
    },
  );

  it('compares tokens in constant time and correctly', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
  });

  it('takes only 32-byte keys, current and previous', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('secret key must be 32 bytes');
    expect(() => new SecretBox(key, [randomBytes(31)])).toThrow('previous secret key 1 must be 32 bytes');
  });
});

describe('SecretBox key rotation', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new SecretBox(oldKey);
  const after = new SecretBox(newKey, [oldKey]);

  it('opens a value sealed with the old key once the old key is listed as previous', () => {
    const sealed = before.seal('upstream-pw');
    expect(after.open(sealed)).toBe('upstream-pw');
    expect(after.keyIds).toEqual([after.keyId, before.keyId]);
  });

  it('refuses it when the old key is not listed', () => {
    const sealed = before.seal('upstream-pw');
    expect(() => new SecretBox(newKey).open(sealed)).toThrow(`unknown key (key id ${before.keyId})`);
  });

  it('seals only with the current key', () => {
    expect(after.seal('x').split('.')[1]).toBe(secretKeyId(newKey));
    expect(after.isCurrent(after.seal('x'))).toBe(true);
    expect(after.isCurrent(before.seal('x'))).toBe(false);
  });

  it('reseal moves a value to the current key id, and leaves a current one as it is', () => {
    const sealed = before.seal('upstream-pw');
    const moved = after.reseal(sealed);
    expect(moved.split('.')[1]).toBe(after.keyId);
    expect(new SecretBox(newKey).open(moved)).toBe('upstream-pw'); // the old key is no longer needed
    expect(after.reseal(moved)).toBe(moved);
  });

  it('reseal refuses what it cannot open', () => {
    expect(() => new SecretBox(newKey).reseal(before.seal('x'))).toThrow(/unknown key/);
    const parts = after.seal('x').split('.');
    parts[4] = flip(parts[4] as string);
    expect(() => after.reseal(parts.join('.'))).toThrow();
  });

  it('ignores the current key listed again as previous', () => {
    expect(new SecretBox(newKey, [newKey, oldKey]).keyIds).toEqual([secretKeyId(newKey), secretKeyId(oldKey)]);
  });
});

describe('SecretBox v1 values (before key ids)', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('opens a v1 value with the current key', () => {
    expect(new SecretBox(oldKey).open(sealV1(oldKey, 'legacy-pw'))).toBe('legacy-pw');
  });

  it('opens a v1 value with a previous key, trying each', () => {
    const box = new SecretBox(newKey, [randomBytes(32), oldKey]);
    expect(box.open(sealV1(oldKey, 'legacy-pw'))).toBe('legacy-pw');
  });

  it('refuses a v1 value none of the keys sealed, or one altered', () => {
    expect(() => new SecretBox(newKey).open(sealV1(oldKey, 'x'))).toThrow(/none of the configured keys/);
    const parts = sealV1(oldKey, 'x').split('.');
    parts[3] = flip(parts[3] as string);
    expect(() => new SecretBox(oldKey).open(parts.join('.'))).toThrow();
  });

  it('reseal turns a v1 value into v2 with the current key id', () => {
    const box = new SecretBox(newKey, [oldKey]);
    const moved = box.reseal(sealV1(oldKey, 'legacy-pw'));
    expect(moved.startsWith(`v2.${box.keyId}.`)).toBe(true);
    expect(new SecretBox(newKey).open(moved)).toBe('legacy-pw');
  });
});
