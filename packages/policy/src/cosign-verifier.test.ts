import { describe, expect, it } from 'vitest';
import { type SignatureCandidate, verifyCandidates } from './cosign-verifier.ts';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';
import { parseKeySet } from './trusted-keys.ts';

const signedBy = (name: 'keyA' | 'p384'): SignatureCandidate => ({
  format: 'simple-signing',
  payload: f.payload(name),
  signature: f.signature(name),
});
const OTHER = `sha256:${'0'.repeat(64)}`;

describe('cosign signature verification (fixtures made by cosign v2.6.1)', () => {
  it('verifies a signature by a trusted key over this digest', () => {
    expect(verifyCandidates(f.digest, [signedBy('keyA')], { keys: parseKeySet([f.key('keyA')]) })).toEqual({ verified: true, key: 'keyA' });
  });

  it('verifies with either of two trusted keys (rotation), and not once the signing key is removed', () => {
    expect(verifyCandidates(f.digest, [signedBy('keyA')], { keys: parseKeySet([f.key('keyB'), f.key('keyA')]) })).toEqual({
      verified: true,
      key: 'keyA',
    });
    expect(verifyCandidates(f.digest, [signedBy('keyA')], { keys: parseKeySet([f.key('keyB')]) })).toMatchObject({
      verified: false,
      reason: 'untrusted',
      detail: expect.stringMatching(/not signed by a trusted key/),
    });
  });

  it('checks a P-384 key with SHA-384, as cosign signs with it', () => {
    expect(verifyCandidates(f.digest, [signedBy('p384')], { keys: parseKeySet([f.key('p384')]) })).toEqual({ verified: true, key: 'p384' });
  });

  it('refuses a genuine signature made for another digest', () => {
    const verdict = verifyCandidates(OTHER, [signedBy('keyA')], { keys: parseKeySet([f.key('keyA')]) });
    expect(verdict).toMatchObject({
      verified: false,
      reason: 'untrusted',
      detail: expect.stringContaining(`signed by keyA for ${f.digest}`),
    });
  });

  it('refuses a payload changed after signing, and a flipped signature bit', () => {
    const tampered = Buffer.from(f.payload('keyA').toString('utf8').replace(f.digest, OTHER));
    expect(
      verifyCandidates(OTHER, [{ format: 'simple-signing', payload: tampered, signature: f.signature('keyA') }], {
        keys: parseKeySet([f.key('keyA')]),
      }).verified,
    ).toBe(false);
    const bits = Buffer.from(f.signature('keyA'), 'base64');
    bits[bits.length - 1] = (bits[bits.length - 1] ?? 0) ^ 1;
    const flipped: SignatureCandidate = { format: 'simple-signing', payload: f.payload('keyA'), signature: bits.toString('base64') };
    expect(verifyCandidates(f.digest, [flipped], { keys: parseKeySet([f.key('keyA')]) }).verified).toBe(false);
  });

  it('says unsigned when nothing was found, untrusted when no key is trusted', () => {
    expect(verifyCandidates(f.digest, [], { keys: parseKeySet([f.key('keyA')]) })).toMatchObject({ verified: false, reason: 'unsigned' });
    expect(verifyCandidates(f.digest, [signedBy('keyA')], { keys: [] })).toMatchObject({ verified: false, reason: 'untrusted' });
  });

  it('passes when any one of several signatures is valid', () => {
    const junk: SignatureCandidate = { format: 'simple-signing', payload: Buffer.from('{}'), signature: 'AAAA' };
    expect(verifyCandidates(f.digest, [junk, signedBy('p384'), signedBy('keyA')], { keys: parseKeySet([f.key('keyA')]) })).toEqual({
      verified: true,
      key: 'keyA',
    });
  });

  it('verifies the sigstore bundle of cosign --new-bundle-format, for its digest only', () => {
    const bundle: SignatureCandidate = { format: 'bundle', bundle: f.bundle() };
    expect(verifyCandidates(f.digest, [bundle], { keys: parseKeySet([f.key('keyB'), f.key('keyA')]) })).toEqual({
      verified: true,
      key: 'keyA',
    });
    expect(verifyCandidates(f.digest, [bundle], { keys: parseKeySet([f.key('keyB')]) }).verified).toBe(false);
    expect(verifyCandidates(OTHER, [bundle], { keys: parseKeySet([f.key('keyA')]) })).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/for another digest/),
    });
    expect(
      verifyCandidates(f.digest, [{ format: 'bundle', bundle: { mediaType: 'nope' } }], { keys: parseKeySet([f.key('keyA')]) }).verified,
    ).toBe(false);
  });
});
