/**
 * Manifest media types an upstream may serve, as sent in `Accept` and
 * `Content-Type`.
 */
export const ManifestMediaType = {
  /** OCI image index (multi-platform). */
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  /** OCI image manifest. */
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  /** Docker manifest list v2 (multi-platform). */
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Docker image manifest v2, schema 2. */
  DockerManifestV2: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Docker image manifest v2, schema 1, signed (deprecated: never asked for, refused). */
  DockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** One of {@link ManifestMediaType}'s values. */
export type ManifestMediaType = (typeof ManifestMediaType)[keyof typeof ManifestMediaType];

/** Docker image manifest v2, schema 1, unsigned. Never asked for; refused when an upstream sends it anyway. */
const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';

/**
 * The `Accept` of every manifest request vreg sends upstream, whatever its
 * own client accepts: every current format, index types first, and never
 * schema 1. A registry that finds the stored type missing from Accept
 * converts it: distribution 2.x and Docker Hub turn a schema 2 manifest
 * asked for by tag into a signed schema 1 one (another digest, no
 * platforms), and without the list types answer one platform's manifest.
 * Asking for all of them gets the bytes as pushed.
 */
export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = Object.freeze([
  ManifestMediaType.OciIndex,
  ManifestMediaType.OciManifest,
  ManifestMediaType.DockerManifestList,
  ManifestMediaType.DockerManifestV2,
]);

/**
 * Whether a manifest is Docker schema 1 (signed or not), by its media type,
 * or by its `schemaVersion` when the type says nothing (`application/json`,
 * none). Schema 1 is deprecated, unsupported by containerd 2 and Docker 28,
 * and a converted one does not match the digest of what was pushed.
 */
export function isSchema1Manifest(contentType: string | undefined, bytes: Buffer): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === ManifestMediaType.DockerManifestV1Signed || type === DOCKER_MANIFEST_V1) return true;
  if (type !== undefined && type !== '' && type !== 'application/json' && type !== 'text/plain') return false;
  try {
    return (JSON.parse(bytes.toString('utf8')) as { schemaVersion?: unknown }).schemaVersion === 1;
  } catch {
    return false;
  }
}
