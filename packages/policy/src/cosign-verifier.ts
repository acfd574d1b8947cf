import { bundleFromJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import { pem, crypto as sigstoreCrypto } from '@sigstore/core';
import { type TrustMaterial, toSignedEntity, VerificationError, Verifier } from '@sigstore/verify';
import { identityTrusted, type KeylessTrust } from './keyless-trust.ts';
import { hashName, type ParsedKey } from './trusted-keys.ts';

/**
 * A cosign signature found for a manifest digest, not yet trusted:
 * `simple-signing` is cosign's classic format (a JSON payload naming the
 * digest, signed; the signature in a layer annotation), `bundle` the
 * sigstore bundle of `cosign sign --new-bundle-format` (a DSSE envelope
 * around an in-toto statement).
 */
export type SignatureCandidate =
  | {
      format: 'simple-signing';
      payload: Buffer;
      signature: string;
      /** A keyless signature's certificate (PEM), with its RFC 3161 timestamp (DER) when it has one. */
      certificate?: string;
      timestamp?: Buffer;
    }
  | { format: 'bundle'; bundle: unknown };

/** What a signature may be verified with: public keys, and keyless trust (a trusted root and identities). */
export interface SignatureTrust {
  keys: readonly ParsedKey[];
  keyless?: KeylessTrust;
}

export type SignatureVerdict = { verified: true; key: string } | { verified: false; reason: 'unsigned' | 'untrusted'; detail: string };

const COSIGN_SIMPLE_SIGNING_TYPE = 'cosign container image signature';
const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * Offline, keyed: no certificate authorities, no transparency logs, no
 * timestamps (a keyed cosign signature carries no trusted time), so every
 * threshold is 0. The public Sigstore TUF root is never fetched.
 */
const KEYED_OFFLINE = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } as const;

/**
 * Is `digest` signed by one of the trusted keys (or, keyless, a trusted
 * identity)? A candidate counts only when its signature verifies AND what it
 * signs names this exact digest (a genuine signature copied from another
 * image must not pass).
 * The signed `docker-reference` is not compared: vreg serves an image under
 * its own name, not the one it was signed under (cosign does the same).
 */
export function verifyCandidates(digest: string, candidates: readonly SignatureCandidate[], trust: SignatureTrust): SignatureVerdict {
  if (candidates.length === 0) return { verified: false, reason: 'unsigned', detail: `no cosign signature found for ${digest}` };
  const { keys, keyless } = trust;
  if (keys.length === 0 && keyless === undefined) return { verified: false, reason: 'untrusted', detail: 'the registry trusts no key' };
  const problems = new Set<string>();
  for (const candidate of candidates) {
    const outcome =
      candidate.format === 'bundle'
        ? checkBundle(candidate.bundle, digest, keys)
        : candidate.certificate !== undefined && keyless !== undefined
          ? checkCertificate(candidate, digest, keyless)
          : checkSimpleSigning(candidate, digest, keys);
    if (outcome.key !== undefined) return { verified: true, key: outcome.key };
    problems.add(outcome.problem);
  }
  const count = `${candidates.length} signature${candidates.length === 1 ? '' : 's'}`;
  return {
    verified: false,
    reason: 'untrusted',
    detail: `${count} found for ${digest}, none valid: ${[...problems].slice(0, 3).join('; ')}`,
  };
}

type Outcome = { key: string; problem?: undefined } | { key?: undefined; problem: string };

/**
 * A keyless signature: the certificate must chain to one of the trusted
 * root's certificate authorities and have been valid at a time one of its
 * timestamp authorities vouched for (so at least one RFC 3161 timestamp:
 * sigstore-js checks the chain once per verified timestamp, and with none it
 * would check nothing); then the certificate's identity must be one the
 * policy trusts, and the payload must name this digest. The passing "key"
 * is reported as the identity.
 */
function checkCertificate(
  candidate: { payload: Buffer; signature: string; certificate?: string; timestamp?: Buffer },
  digest: string,
  keyless: KeylessTrust,
): Outcome {
  if (candidate.timestamp === undefined) return { problem: 'a certificate signature without an RFC 3161 timestamp' };
  let certificate: Buffer;
  try {
    certificate = pem.toDER(candidate.certificate ?? '');
  } catch {
    return { problem: 'an unreadable signing certificate' };
  }
  const bundle = toMessageSignatureBundle({
    digest: sigstoreCrypto.digest('sha256', candidate.payload),
    signature: Buffer.from(candidate.signature, 'base64'),
    certificate,
  });
  bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: candidate.timestamp }] };
  let identity: { subjectAlternativeName?: string; extensions?: { issuer?: string } } | undefined;
  try {
    identity = new Verifier(keyless.material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }).verify(
      toSignedEntity(bundle, candidate.payload),
    ).identity;
  } catch {
    return { problem: 'a certificate that does not chain to the trusted root at a trusted time, or a signature it does not verify' };
  }
  const subject = identity?.subjectAlternativeName;
  if (!identityTrusted(keyless.identities, subject, identity?.extensions?.issuer))
    return {
      problem: `signed by ${subject ?? 'an unnamed identity'} (${identity?.extensions?.issuer ?? 'no issuer'}), not a trusted identity`,
    };
  const named = simpleSigningDigest(candidate.payload);
  if (named !== digest) return { problem: `signed by ${subject} for ${named ?? 'an unreadable payload'}, not this digest` };
  return { key: subject as string };
}

function checkSimpleSigning(candidate: { payload: Buffer; signature: string }, digest: string, keys: readonly ParsedKey[]): Outcome {
  const signature = Buffer.from(candidate.signature, 'base64');
  if (signature.length === 0) return { problem: 'an empty signature' };
  const signer = keys.find((k) => verifiesMessage(candidate.payload, signature, k));
  if (signer === undefined) return { problem: 'not signed by a trusted key' };
  // Only now is the payload trusted enough to read.
  const named = simpleSigningDigest(candidate.payload);
  if (named !== digest) return { problem: `signed by ${signer.name} for ${named ?? 'an unreadable payload'}, not this digest` };
  return { key: signer.name };
}

/** A message signature over the payload bytes, as @sigstore/verify checks one, with the key's own digest. */
function verifiesMessage(payload: Buffer, signature: Buffer, key: ParsedKey): boolean {
  const bundle = toMessageSignatureBundle({ digest: Buffer.alloc(0), signature, keyHint: key.name });
  // toMessageSignatureBundle always says SHA-256; the verifier hashes the artifact with what this says.
  bundle.content.messageSignature.messageDigest = { algorithm: key.hash, digest: sigstoreCrypto.digest(hashName(key.hash), payload) };
  return verifies(() => new Verifier(trustOnly(key), KEYED_OFFLINE).verify(toSignedEntity(bundle, payload)));
}

function checkBundle(json: unknown, digest: string, keys: readonly ParsedKey[]): Outcome {
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(json);
  } catch {
    return { problem: 'an unreadable sigstore bundle' };
  }
  if (bundle.content.$case !== 'dsseEnvelope') return { problem: 'a sigstore bundle without a DSSE envelope' };
  // The bundle's key hint is the signer's claim: not trusted, every key is tried.
  const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
  const signer = keys.find((k) => verifies(() => new Verifier(trustOnly(k, hint), KEYED_OFFLINE).verify(toSignedEntity(bundle))));
  if (signer === undefined) return { problem: 'not signed by a trusted key' };
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { problem: `signed by ${signer.name}, but not an in-toto statement` };
  const statement = parseJson(envelope.payload) as
    | { predicateType?: unknown; subject?: Array<{ digest?: Record<string, unknown> }> }
    | undefined;
  if (statement?.predicateType !== COSIGN_SIGN_PREDICATE) return { problem: `signed by ${signer.name}, but not a cosign image signature` };
  const [algorithm, hex] = digest.split(':') as [string, string];
  if (!(statement.subject ?? []).some((s) => s.digest?.[algorithm] === hex))
    return { problem: `signed by ${signer.name} for another digest, not this one` };
  return { key: signer.name };
}

/** Trust material holding one key, found under whatever hint the signature names. */
function trustOnly(key: ParsedKey, hint?: string): TrustMaterial {
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (asked) => {
      if (hint !== undefined ? asked !== hint : asked !== key.name)
        throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: 'key not found' });
      // Keyed signatures carry no trusted time: a key is valid for as long as the policy lists it.
      return { publicKey: key.key, validFor: () => true };
    },
  };
}

/** True when `verify` passes; a VerificationError is a plain "no", anything else (a malformed input the library trips on) too. */
function verifies(verify: () => unknown): boolean {
  try {
    verify();
    return true;
  } catch {
    return false;
  }
}

/** The `critical.image["docker-manifest-digest"]` of a simple-signing payload, when it is one. */
function simpleSigningDigest(payload: Buffer): string | undefined {
  const doc = parseJson(payload) as { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } } } | undefined;
  if (doc?.critical?.type !== COSIGN_SIMPLE_SIGNING_TYPE) return undefined;
  const named = doc.critical.image?.['docker-manifest-digest'];
  return typeof named === 'string' ? named : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
