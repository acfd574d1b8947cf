/**
 * @vreg/upstream-client: pulls manifests and blobs from upstream OCI
 * registries. Depend on the `UpstreamRegistry` port; construct
 * `HttpUpstreamRegistry` once per process (it owns a connection pool).
 */

export type { UpstreamErrorOptions } from './errors.ts';
export {
  isUpstreamError,
  UpstreamAuthError,
  UpstreamError,
  UpstreamErrorCode,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from './errors.ts';
export type { UpstreamLogger } from './http-sender.ts';
export type { HttpUpstreamRegistryOptions } from './http-upstream-registry.ts';
export { HttpUpstreamRegistry } from './http-upstream-registry.ts';
export { httpUpstreamRegistryFromEnv, type UpstreamEnvSettings } from './http-upstream-registry-from-env.ts';
export { DEFAULT_MANIFEST_ACCEPT, isSchema1Manifest, ManifestMediaType } from './media-types.ts';
export type { AuthChallenge } from './parse-www-authenticate.ts';
export { parseWwwAuthenticate } from './parse-www-authenticate.ts';
export type { HostResolver } from './upstream-address-policy.ts';
export { UpstreamAddressBlockedError, UpstreamAddressPolicy } from './upstream-address-policy.ts';
export type { PingOptions, UpstreamPing, UpstreamPingResult } from './upstream-ping.ts';
export { UpstreamPingResults } from './upstream-ping.ts';
export type {
  BlobRequestOptions,
  ByteRange,
  HeadRequestOptions,
  ManifestRequestOptions,
  UpstreamHead,
  UpstreamRegistry,
  UpstreamResponse,
  UpstreamTarget,
} from './upstream-registry.ts';
