import { describe, expect, it } from 'vitest';
import { type SignatureCandidate, verifyCandidates } from './cosign-verifier.ts';
import { identityTrusted, parseKeylessTrust, UnusableTrustedRootError } from './keyless-trust.ts';
import { pullPolicyProblems } from './policy-problems.ts';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';

const k = f.keyless();
const candidate = (patch: Partial<Extract<SignatureCandidate, { format: 'simple-signing' }>> = {}): SignatureCandidate => ({
  format: 'simple-signing',
  payload: k.payload,
  signature: k.signature,
  certificate: k.certificate,
  timestamp: k.timestamp,
  ...patch,
});
const trust = (identities = [k.identity]) => ({ keys: [], keyless: parseKeylessTrust({ trustedRoot: k.trustedRoot, identities }) });
const OTHER = `sha256:${'0'.repeat(64)}`;

describe('keyless signatures (a private CA and TSA; cosign v2.6.1 signed the fixture)', () => {
  it('verifies a certificate chained to the trusted root, timestamped by its TSA, with a trusted identity', () => {
    expect(verifyCandidates(k.digest, [candidate()], trust())).toEqual({ verified: true, key: 'signer@example.test' });
    expect(verifyCandidates(k.digest, [candidate()], trust([{ subject: '*@example.test', issuer: k.identity.issuer }])).verified).toBe(
      true,
    );
  });

  it('refuses another identity, another issuer, another digest, no timestamp, and a root without its CA', () => {
    expect(verifyCandidates(k.digest, [candidate()], trust([{ subject: 'someone@else.test', issuer: k.identity.issuer }]))).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/signed by signer@example.test \(https:\/\/issuer.example.test\), not a trusted identity/),
    });
    expect(verifyCandidates(k.digest, [candidate()], trust([{ subject: k.identity.subject, issuer: 'https://evil.test' }])).verified).toBe(
      false,
    );
    expect(verifyCandidates(OTHER, [candidate()], trust())).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/not this digest/),
    });
    expect(verifyCandidates(k.digest, [candidate({ timestamp: undefined })], trust())).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/without an RFC 3161 timestamp/),
    });
    // A root whose only CA is the TSA's chain: the signing certificate chains to nothing it trusts.
    type Authority = { certChain: { certificates: unknown[] } };
    const root = JSON.parse(k.trustedRoot) as { certificateAuthorities: Authority[]; timestampAuthorities: Authority[] };
    const otherCa = {
      ...root,
      certificateAuthorities: [{ ...root.certificateAuthorities[0], certChain: root.timestampAuthorities[0]?.certChain }],
    };
    const wrongRoot = { keys: [], keyless: parseKeylessTrust({ trustedRoot: JSON.stringify(otherCa), identities: [k.identity] }) };
    expect(verifyCandidates(k.digest, [candidate()], wrongRoot)).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/does not chain/),
    });
    expect(
      verifyCandidates(k.digest, [candidate({ payload: Buffer.from(k.payload.toString().replace('"critical"', '"critical" ')) })], trust())
        .verified,
    ).toBe(false);
  });

  it('does not trust a certificate signature by key alone when keyless trust is not configured', () => {
    expect(verifyCandidates(k.digest, [candidate()], { keys: [] }).verified).toBe(false);
  });

  it('refuses trusted roots it cannot use, saying why', () => {
    expect(() => parseKeylessTrust({ trustedRoot: 'nope', identities: [k.identity] })).toThrow(UnusableTrustedRootError);
    const root = JSON.parse(k.trustedRoot) as Record<string, unknown>;
    expect(() =>
      parseKeylessTrust({ trustedRoot: JSON.stringify({ ...root, timestampAuthorities: [] }), identities: [k.identity] }),
    ).toThrow(/no timestamp authority/);
    expect(() =>
      parseKeylessTrust({ trustedRoot: JSON.stringify({ ...root, certificateAuthorities: [] }), identities: [k.identity] }),
    ).toThrow(/no certificate authority/);
    expect(
      pullPolicyProblems({
        defaultAction: 'allow',
        rules: [],
        signatures: { mode: 'enforce', keys: [], keyless: { trustedRoot: '{}', identities: [k.identity] } },
      }),
    ).toEqual([expect.stringMatching(/^signatures.keyless.trusted_root: /)]);
    expect(
      pullPolicyProblems({
        defaultAction: 'allow',
        rules: [],
        signatures: { mode: 'enforce', keys: [], keyless: { trustedRoot: k.trustedRoot, identities: [k.identity] } },
      }),
    ).toEqual([]);
  });

  it('matches identities by subject glob and exact issuer', () => {
    const ids = [{ subject: 'https://github.com/org/*', issuer: 'https://token.actions.githubusercontent.com' }];
    expect(
      identityTrusted(
        ids,
        'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1',
        'https://token.actions.githubusercontent.com',
      ),
    ).toBe(true);
    expect(identityTrusted(ids, 'https://github.com/other/repo', 'https://token.actions.githubusercontent.com')).toBe(false);
    expect(identityTrusted(ids, 'https://github.com/org/repo', 'https://token.actions.githubusercontent.com.evil')).toBe(false);
    expect(identityTrusted([{ subject: 'a.b@x.test', issuer: 'i' }], 'aXb@x.test', 'i')).toBe(false);
  });
});
