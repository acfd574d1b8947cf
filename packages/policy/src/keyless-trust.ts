import { crypto as sigstoreCrypto } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type TrustMaterial, toTrustMaterial } from '@sigstore/verify';
import type { KeylessIdentity, KeylessPolicy } from '@vreg/contracts';

/** Keyless trust ready to verify with: the trusted root's material and the identities allowed to sign. */
export interface KeylessTrust {
  material: TrustMaterial;
  identities: readonly KeylessIdentity[];
  /** sha256 of the trusted root's bytes and the identities: part of the verdicts' cache key. */
  fingerprint: string;
}

/** A trusted root vreg cannot use; the message says why, for a 400. */
export class UnusableTrustedRootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableTrustedRootError';
  }
}

const cache = new Map<string, KeylessTrust>();

/**
 * Reads an operator-supplied sigstore trusted root (protobuf-specs
 * TrustedRoot, as `cosign --trusted-root` reads it). It must name at least
 * one certificate authority (what signing certificates chain to) and one
 * timestamp authority: without a trusted time a certificate's validity
 * cannot be checked, and vreg does not read transparency logs.
 * @throws UnusableTrustedRootError
 */
export function parseKeylessTrust(keyless: KeylessPolicy): KeylessTrust {
  const fingerprint = sigstoreCrypto.digest('sha256', keyless.trustedRoot, '\n', JSON.stringify(keyless.identities)).toString('hex');
  const cached = cache.get(fingerprint);
  if (cached !== undefined) return cached;
  let json: unknown;
  try {
    json = JSON.parse(keyless.trustedRoot);
  } catch {
    throw new UnusableTrustedRootError('the trusted root is not JSON (a sigstore trusted_root.json is)');
  }
  let material: TrustMaterial;
  try {
    material = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (err) {
    throw new UnusableTrustedRootError(`the trusted root cannot be read: ${(err as Error).message}`);
  }
  if (material.certificateAuthorities.length === 0)
    throw new UnusableTrustedRootError('the trusted root names no certificate authority (certificateAuthorities) for signing certificates');
  if (material.timestampAuthorities.length === 0)
    throw new UnusableTrustedRootError(
      'the trusted root names no timestamp authority (timestampAuthorities): keyless signatures need an RFC 3161 timestamp, vreg does not read transparency logs',
    );
  const trust = { material, identities: keyless.identities, fingerprint };
  if (cache.size >= 100) cache.clear();
  cache.set(fingerprint, trust);
  return trust;
}

/** Whether a verified certificate's identity is one the policy trusts: the subject by glob (`*` any run of characters), the issuer exactly. */
export function identityTrusted(identities: readonly KeylessIdentity[], subject: string | undefined, issuer: string | undefined): boolean {
  if (subject === undefined || issuer === undefined) return false;
  return identities.some((id) => id.issuer === issuer && subjectGlob(id.subject).test(subject));
}

function subjectGlob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );
}
