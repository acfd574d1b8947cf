import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpEnv, intFrom, LogEnv, NatsEnv, parseEnv, S3Env, SecretsEnv, UpstreamEnv } from '@vreg/contracts';
import { TelemetryEnv } from '@vreg/telemetry';
import { WorkersEnv } from '@vreg/workers';
import { z } from 'zod';
import { GatewayAuthEnv } from './auth/auth-env.ts';
import { GatewayPolicyEnv } from './policy/policy-env.ts';

// Not `n << 30`: shifts are 32-bit, and 4 << 30 is 0.
const GIB = 1024 ** 3;

/** Pull-path settings, the same in embedded and distributed mode. Units in the names. */
export const GatewayPullEnv = {
  ...UpstreamEnv,
  ...GatewayAuthEnv,
  ...GatewayPolicyEnv,
  /** Largest manifest accepted from an upstream. */
  VREG_MANIFEST_MAX_BYTES: intFrom(1024, 64 << 20).default(4 << 20),
  /** Fill lease TTL; renewed at a third of it while a fill runs. */
  VREG_FILL_LEASE_TTL_MS: intFrom(1000, 600_000).default(30_000),
  /** A fill's own deadline, independent of the client. */
  VREG_FILL_TIMEOUT_MS: intFrom(1000, 24 * 3_600_000).default(3_600_000),
  /** Local directory for fill spools (anonymous files clients read misses from). */
  VREG_SPOOL_DIR: z.string().min(1).default(join(tmpdir(), 'vreg-spool')),
  /** How often a request waiting on another replica's fill checks for the object. */
  VREG_FILL_WAIT_POLL_MS: intFrom(20, 10_000).default(200),
  /** How often download counts are published. */
  VREG_SERVED_FLUSH_MS: intFrom(100, 600_000).default(5_000),
  VREG_CATALOG_TIMEOUT_MS: intFrom(100, 60_000).default(2_000),
  /** Cache entries remembered in process (digest entries forever, tags briefly). */
  VREG_CATALOG_CACHE_ENTRIES: intFrom(100, 10_000_000).default(100_000),
  /** How long an upstream "no such manifest" is remembered; 0 = off. */
  VREG_NEGATIVE_CACHE_MS: intFrom(0, 3_600_000).default(30_000),
  /**
   * Blob hits answer 307 to a presigned store URL valid this many seconds, so
   * bytes bypass the gateways (S3 only; the embedded disk store has none). 0 = off.
   * One URL per blob is handed out until half its validity is gone.
   */
  VREG_BLOB_REDIRECT_TTL_SECONDS: intFrom(0, 7 * 24 * 3600).default(0),
  /** Manifest bytes kept in memory by digest (hits then never touch the store); 0 = off. */
  VREG_MANIFEST_CACHE_BYTES: intFrom(0, 4 * GIB).default(64 << 20),
  /**
   * Bytes of the most-read blobs kept in memory (a blob hit twice gets a copy,
   * hashed against its digest when loaded; least recently read out first), so
   * their hits skip the store's read; 0 = off. Per process, like every cache.
   */
  VREG_BLOB_MEMORY_CACHE_BYTES: intFrom(0, 64 * GIB).default(256 << 20),
  /** The largest blob the memory cache holds (bigger ones are always read from the store). */
  VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES: intFrom(1, 64 * GIB).default(64 << 20),
  VREG_TAG_CACHE_MS: intFrom(0, 600_000).default(1_000),
  VREG_REGISTRY_CACHE_MS: intFrom(0, 600_000).default(5_000),
  /**
   * Requests one client address may make to the pull API (`/v2`, the token
   * endpoint included) per VREG_PULL_RATE_WINDOW_MS, per gateway replica;
   * past it, 429 TOOMANYREQUESTS with Retry-After. 0 = no limit. The default
   * is GitLab's: 1000 per 15 s.
   */
  VREG_PULL_RATE_LIMIT: intFrom(0, 100_000_000).default(1000),
  VREG_PULL_RATE_WINDOW_MS: intFrom(1000, 3_600_000).default(15_000),
};

export type GatewayPullConfig = Readonly<z.infer<z.ZodObject<typeof GatewayPullEnv>>>;

/** The distributed gateway process: pull settings plus NATS, S3 and its listen address. */
export const GatewayEnv = { ...LogEnv, ...NatsEnv, ...S3Env, ...SecretsEnv, ...HttpEnv, ...TelemetryEnv, ...WorkersEnv, ...GatewayPullEnv };
export type GatewayConfig = Readonly<z.infer<z.ZodObject<typeof GatewayEnv>>>;

/** Validates every setting at once; throws CONFIG_INVALID listing each problem. */
export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(GatewayEnv, env);
}

export function loadGatewayPullConfig(env: Record<string, string | undefined>): GatewayPullConfig {
  return parseEnv(GatewayPullEnv, env);
}
