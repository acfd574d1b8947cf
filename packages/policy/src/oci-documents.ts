import { MediaTypes } from '@vreg/contracts';

/** The parts of an OCI/Docker manifest or index the policy reads. Anything else in the document is ignored. */
export interface PolicyDescriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: unknown;
}

export interface PolicyManifest {
  mediaType?: string;
  artifactType?: string;
  config?: PolicyDescriptor;
  layers?: PolicyDescriptor[];
  manifests?: PolicyDescriptor[];
  subject?: PolicyDescriptor;
}

/** Media types of cosign's and sigstore's signature artifacts. */
export const SignatureMediaTypes = {
  /** A layer of a classic cosign signature: the payload blob, the signature in an annotation. */
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  /** artifactType (or config media type) of a cosign signature pushed as an OCI 1.1 referrer. */
  cosignArtifact: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  /** A sigstore bundle (cosign --new-bundle-format), as layer and artifactType. */
  sigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  /** cosign attestations: DSSE envelopes around in-toto statements. */
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  /** What go-containerregistry writes as artifactType in its referrers tag-schema index for bundles (the config's media type). */
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** The layer annotation holding a classic cosign signature (base64). */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** A keyless signature's signing certificate (PEM). */
export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** A keyless signature's RFC 3161 timestamp: `{"SignedRFC3161Timestamp":"<base64 DER>"}`. */
export const COSIGN_TIMESTAMP_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp';

const SIGNATURE_LAYER_TYPES = new Set<string>([
  SignatureMediaTypes.simpleSigning,
  SignatureMediaTypes.sigstoreBundle,
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  SignatureMediaTypes.dsseEnvelope,
]);

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);

/** The JSON document, or undefined when the bytes are not a JSON object. */
export function parseManifest(bytes: Buffer): PolicyManifest | undefined {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as PolicyManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** True for an image index (OCI or Docker manifest list), by media type or by shape. */
export function isIndex(manifest: PolicyManifest, contentType?: string): boolean {
  if (contentType !== undefined && INDEX_TYPES.has(contentType.split(';')[0]?.trim() ?? '')) return true;
  if (manifest.mediaType !== undefined) return INDEX_TYPES.has(manifest.mediaType);
  return Array.isArray(manifest.manifests) && manifest.layers === undefined;
}

/** The digests an index lists (its platform manifests). */
export function indexChildren(manifest: PolicyManifest): string[] {
  return (manifest.manifests ?? []).flatMap((d) => (typeof d.digest === 'string' ? [d.digest] : []));
}

/**
 * A signature or attestation, not something to run: an image manifest all
 * of whose layers are cosign signature payloads, sigstore bundles or DSSE
 * envelopes (no runtime unpacks those media types), or a referrers index
 * (the OCI tag schema's `sha256-<hex>`) every entry of which names an
 * artifactType and no platform. These are served without a signature of
 * their own, so that verifiers such as cosign and policy controllers can
 * read them through vreg; what they sign is judged when it is pulled.
 */
export function isSignatureArtifact(manifest: PolicyManifest, contentType?: string): boolean {
  if (isIndex(manifest, contentType)) {
    const entries = manifest.manifests ?? [];
    return entries.length > 0 && entries.every((d) => typeof d.artifactType === 'string' && d.platform === undefined);
  }
  const layers = manifest.layers ?? [];
  return layers.length > 0 && layers.every((l) => typeof l.mediaType === 'string' && SIGNATURE_LAYER_TYPES.has(l.mediaType));
}
