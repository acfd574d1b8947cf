/** OCI and Docker media types vreg recognises. Stored and served byte-exact whatever they are. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  octetStream: 'application/octet-stream',
} as const;
export type MediaType = (typeof MediaTypes)[keyof typeof MediaTypes];

/** The manifest media types a pull-through cache asks upstreams for, most preferred first. */
export const ManifestAccept: readonly string[] = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
];

/**
 * The manifest and index types vreg stores and serves (Docker schema 1 too,
 * signed or not). Anything else an upstream labels a manifest is refused:
 * vreg's origin never serves a type a browser would render.
 */
const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestV1Signed,
  'application/vnd.docker.distribution.manifest.v1+json',
]);

/** Whether `type` (no parameters, lower case) is an OCI or Docker manifest or index media type. */
export function isManifestMediaType(type: string): boolean {
  return MANIFEST_MEDIA_TYPES.has(type);
}
