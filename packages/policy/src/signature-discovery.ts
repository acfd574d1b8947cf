import { isDigest } from '@vreg/oci';
import type { SignatureCandidate, SignatureTrust, SignatureVerdict } from './cosign-verifier.ts';
import { verifyCandidates } from './cosign-verifier.ts';
import {
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_TIMESTAMP_ANNOTATION,
  type PolicyManifest,
  parseManifest,
  SignatureMediaTypes,
} from './oci-documents.ts';

/** A manifest as a signature source returns it: exact bytes and their digest. */
export interface FetchedManifest {
  digest: string;
  bytes: Buffer;
  contentType: string;
}

/**
 * Where signature artifacts come from: the registry's own upstream chain,
 * through the cache (a gateway's pull services, a fetcher's warm path), so
 * they are stored, recorded and served from the cache like any other
 * content. Reads are of the repository the image is pulled from.
 */
export interface SignatureSource {
  /** The manifest at a tag or digest; undefined when no upstream has it. */
  manifest(image: string, reference: string): Promise<FetchedManifest | undefined>;
  /** The manifest at a tag asked of the upstream again, past any cached copy; absent when the source cannot. */
  freshManifest?(image: string, reference: string): Promise<FetchedManifest | undefined>;
  /**
   * The referrers of `digest` as an OCI index: from the referrers API, or
   * its tag schema (`sha256-<hex>`) where the upstream has no such API;
   * undefined or an empty index when there are none.
   */
  referrers(image: string, digest: string): Promise<Buffer | undefined>;
  /** The referrers asked of the upstream again, past any cached listing; absent when the source cannot. */
  freshReferrers?(image: string, digest: string): Promise<Buffer | undefined>;
  /** A blob's bytes. @throws when it is larger than `maxBytes`. */
  blob(image: string, digest: string, maxBytes: number): Promise<Buffer>;
}

/** A payload names a digest and a repository: a few hundred bytes. */
const PAYLOAD_MAX_BYTES = 64 * 1024;
/** A sigstore bundle with a certificate chain stays well under this. */
const BUNDLE_MAX_BYTES = 256 * 1024;
/** Signature manifests read from the referrers of one digest, and layers read from one manifest: bounds what a hostile upstream can make us fetch. */
const MAX_REFERRERS = 16;
const MAX_LAYERS = 16;

/**
 * Whether `digest` (in `image`) carries a cosign signature by one of
 * `keys`. cosign's tag scheme (`sha256-<hex>.sig`, where `cosign sign`
 * pushes by default) is read first and is enough when it holds a valid
 * signature; otherwise the OCI referrers (cosign's OCI 1.1 mode and its
 * sigstore bundles) are read too.
 */
export async function verifyDigestSignatures(
  source: SignatureSource,
  image: string,
  digest: string,
  trust: SignatureTrust,
): Promise<SignatureVerdict> {
  const tagged = await fromSignatureTag(source, image, digest);
  const first = verifyCandidates(digest, tagged, trust);
  if (first.verified) return first;
  const referred = await fromReferrers(source, image, digest);
  if (referred.length === 0) return first;
  return verifyCandidates(digest, [...tagged, ...referred], trust);
}

/** cosign's tag of the signatures of `digest`: `sha256-<hex>.sig`. */
export function signatureTagOf(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

async function fromSignatureTag(source: SignatureSource, image: string, digest: string): Promise<SignatureCandidate[]> {
  const found = await source.manifest(image, signatureTagOf(digest));
  const manifest = found && parseManifest(found.bytes);
  return manifest ? simpleSigningCandidates(source, image, manifest) : [];
}

async function fromReferrers(source: SignatureSource, image: string, digest: string): Promise<SignatureCandidate[]> {
  const body = await source.referrers(image, digest);
  const index = body && parseManifest(body);
  const wanted = new Set<string>([SignatureMediaTypes.cosignArtifact, SignatureMediaTypes.sigstoreBundle, SignatureMediaTypes.ociEmpty]);
  const descriptors = (index?.manifests ?? [])
    .filter((d) => typeof d.digest === 'string' && isDigest(d.digest) && (d.artifactType === undefined || wanted.has(d.artifactType)))
    .slice(0, MAX_REFERRERS);
  const out: SignatureCandidate[] = [];
  for (const descriptor of descriptors) {
    const found = await source.manifest(image, descriptor.digest as string);
    const manifest = found && parseManifest(found.bytes);
    // A referrer must point back at the digest: an index can list anything.
    if (!manifest || manifest.subject?.digest !== digest) continue;
    const type = manifest.artifactType ?? manifest.config?.mediaType;
    if (type === SignatureMediaTypes.cosignArtifact) out.push(...(await simpleSigningCandidates(source, image, manifest)));
    else if (type === SignatureMediaTypes.sigstoreBundle) out.push(...(await bundleCandidates(source, image, manifest)));
  }
  return out;
}

/** The layers of a cosign signature manifest: each a payload blob with its signature in an annotation. */
async function simpleSigningCandidates(source: SignatureSource, image: string, manifest: PolicyManifest): Promise<SignatureCandidate[]> {
  const out: SignatureCandidate[] = [];
  for (const layer of (manifest.layers ?? []).slice(0, MAX_LAYERS)) {
    const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (layer.mediaType !== SignatureMediaTypes.simpleSigning || typeof signature !== 'string' || !isDigest(layer.digest ?? '')) continue;
    const payload = await source.blob(image, layer.digest as string, PAYLOAD_MAX_BYTES);
    const certificate = layer.annotations?.[COSIGN_CERTIFICATE_ANNOTATION];
    const timestamp = rfc3161TimestampOf(layer.annotations?.[COSIGN_TIMESTAMP_ANNOTATION]);
    out.push({
      format: 'simple-signing',
      payload,
      signature,
      ...(certificate === undefined ? {} : { certificate }),
      ...(timestamp === undefined ? {} : { timestamp }),
    });
  }
  return out;
}

async function bundleCandidates(source: SignatureSource, image: string, manifest: PolicyManifest): Promise<SignatureCandidate[]> {
  const out: SignatureCandidate[] = [];
  for (const layer of (manifest.layers ?? []).slice(0, MAX_LAYERS)) {
    if (layer.mediaType !== SignatureMediaTypes.sigstoreBundle || !isDigest(layer.digest ?? '')) continue;
    const bytes = await source.blob(image, layer.digest as string, BUNDLE_MAX_BYTES);
    const json = parseManifest(bytes);
    if (json !== undefined) out.push({ format: 'bundle', bundle: json });
  }
  return out;
}

/** cosign's `{"SignedRFC3161Timestamp":"<base64 DER>"}` annotation, decoded; undefined when absent or unreadable. */
function rfc3161TimestampOf(annotation: string | undefined): Buffer | undefined {
  if (annotation === undefined) return undefined;
  try {
    const encoded = (JSON.parse(annotation) as { SignedRFC3161Timestamp?: unknown }).SignedRFC3161Timestamp;
    return typeof encoded === 'string' && encoded !== '' ? Buffer.from(encoded, 'base64') : undefined;
  } catch {
    return undefined;
  }
}
