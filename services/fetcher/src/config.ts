import { HttpEnv, intFrom, LogEnv, NatsEnv, parseEnv, S3Env, SecretsEnv, UpstreamEnv } from '@vreg/contracts';
import { TelemetryEnv } from '@vreg/telemetry';
import type { z } from 'zod';

/** Fill settings, the same in embedded and distributed mode. */
export const FetcherFillEnv = {
  ...UpstreamEnv,
  VREG_MANIFEST_MAX_BYTES: intFrom(1024, 64 << 20).default(4 << 20),
  VREG_FILL_LEASE_TTL_MS: intFrom(1000, 600_000).default(30_000),
  VREG_FILL_TIMEOUT_MS: intFrom(1000, 24 * 3_600_000).default(3_600_000),
  /** Fills run at once in this process. */
  VREG_FETCHER_CONCURRENCY: intFrom(1, 256).default(4),
  /** Deliveries of one fetch request before it is dead-lettered. */
  VREG_FETCHER_MAX_DELIVER: intFrom(1, 1000).default(20),
  VREG_CATALOG_TIMEOUT_MS: intFrom(100, 60_000).default(2_000),
  /** Warm jobs run at once in this process. */
  VREG_WARM_CONCURRENCY: intFrom(1, 64).default(2),
  /** Blobs one warm job downloads at once. */
  VREG_WARM_BLOB_CONCURRENCY: intFrom(1, 64).default(4),
  /** Deliveries of one warm command (retries of a failure that may pass) before its job fails. */
  VREG_WARM_MAX_DELIVER: intFrom(1, 100).default(5),
  /** Deadline of one warm attempt, ms. */
  VREG_WARM_TIMEOUT_MS: intFrom(1000, 24 * 3_600_000).default(3_600_000),
  /** Most time between two progress reports of a running warm, ms, even without change; keep it well below the catalog's VREG_WARM_ABANDON_MS. */
  VREG_WARM_HEARTBEAT_MS: intFrom(100, 600_000).default(10_000),
};
export type FetcherFillConfig = Readonly<z.infer<z.ZodObject<typeof FetcherFillEnv>>>;

export const FetcherEnv = {
  ...LogEnv,
  ...NatsEnv,
  ...S3Env,
  ...SecretsEnv,
  ...TelemetryEnv,
  ...FetcherFillEnv,
  VREG_LISTEN: HttpEnv.VREG_LISTEN.default('127.0.0.1:5003'),
};
export type FetcherConfig = Readonly<z.infer<z.ZodObject<typeof FetcherEnv>>>;

/** Validates every setting at once; throws CONFIG_INVALID listing each problem. */
export function loadFetcherConfig(env: Record<string, string | undefined>): FetcherConfig {
  return parseEnv(FetcherEnv, env);
}

export function loadFetcherFillConfig(env: Record<string, string | undefined>): FetcherFillConfig {
  return parseEnv(FetcherFillEnv, env);
}
