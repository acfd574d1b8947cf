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
  /** Docker image manifest v2, schema 1, signed (deprecated; asked for last). */
  DockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** One of {@link ManifestMediaType}'s values. */
export type ManifestMediaType = (typeof ManifestMediaType)[keyof typeof ManifestMediaType];

/**
 * The `Accept` list sent for manifests unless the caller passes its own:
 * every current format at full weight, signed schema 1 last with a lower
 * weight so that a registry still holding both prefers schema 2. Without
 * the list types a registry would answer with a single-platform manifest
 * (or convert to schema 1), so the index types come first.
 */
export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = Object.freeze([
  ManifestMediaType.OciIndex,
  ManifestMediaType.OciManifest,
  ManifestMediaType.DockerManifestList,
  ManifestMediaType.DockerManifestV2,
  `${ManifestMediaType.DockerManifestV1Signed};q=0.5`,
]);
