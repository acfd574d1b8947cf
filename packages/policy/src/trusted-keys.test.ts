import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { describe, expect, it } from 'vitest';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';
import { keySetFingerprint, parseKeySet, parseTrustedKey, UnusableKeyError } from './trusted-keys.ts';

describe('trusted keys', () => {
  it('reads cosign P-256 keys and P-384 keys with the digest cosign signs with', () => {
    expect(parseTrustedKey(f.key('keyA')).hash).toBe(HashAlgorithm.SHA2_256);
    expect(parseTrustedKey(f.key('p384')).hash).toBe(HashAlgorithm.SHA2_384);
  });

  it('refuses Ed25519 keys, saying why', () => {
    expect(() => parseTrustedKey(f.key('ed25519'))).toThrow(UnusableKeyError);
    expect(() => parseTrustedKey(f.key('ed25519'))).toThrow(/Ed25519ph/);
  });

  it('refuses short RSA keys, garbage and private keys', () => {
    expect(() => parseTrustedKey(f.key('rsa1024'))).toThrow(/at least 2048 bits/);
    expect(() => parseTrustedKey({ name: 'x', pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' })).toThrow(
      /not a readable PEM public key/,
    );
    expect(() => parseTrustedKey({ name: 'x', pem: '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n' })).toThrow(/not a PEM public key/);
  });

  it('fingerprints a key set by its keys, not their names or order', () => {
    const a = parseKeySet([f.key('keyA'), f.key('keyB')]);
    const b = parseKeySet([f.key('keyB'), { ...f.key('keyA'), name: 'renamed' }]);
    expect(keySetFingerprint(a)).toBe(keySetFingerprint(b));
    expect(keySetFingerprint(parseKeySet([f.key('keyA')]))).not.toBe(keySetFingerprint(a));
    expect(keySetFingerprint(a)).toMatch(/^[a-f0-9]{64}$/);
  });
});
