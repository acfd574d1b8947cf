import type { UpstreamLogger } from './http-sender.ts';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import { UpstreamAddressPolicy } from './upstream-address-policy.ts';

/** The upstream settings as `UpstreamEnv` (packages/contracts) validates them. */
export interface UpstreamEnvSettings {
  VREG_UPSTREAM_CONNECT_TIMEOUT_MS: number;
  VREG_UPSTREAM_HEADERS_TIMEOUT_MS: number;
  VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS: number;
  /** Comma-separated allow-list of internal networks and hosts; unset allows public addresses only. */
  VREG_UPSTREAM_ALLOWED_NETWORKS?: string | undefined;
}

/** The upstream client the gateway, the fetcher and the embedded runner build from their validated config. */
export function httpUpstreamRegistryFromEnv(config: UpstreamEnvSettings, logger?: UpstreamLogger): HttpUpstreamRegistry {
  return new HttpUpstreamRegistry({
    connectTimeoutMs: config.VREG_UPSTREAM_CONNECT_TIMEOUT_MS,
    headersTimeoutMs: config.VREG_UPSTREAM_HEADERS_TIMEOUT_MS,
    bodyIdleTimeoutMs: config.VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS,
    addressPolicy: UpstreamAddressPolicy.fromList(config.VREG_UPSTREAM_ALLOWED_NETWORKS),
    ...(logger ? { logger } : {}),
  });
}
