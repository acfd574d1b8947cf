import {
  HttpEnv,
  intFrom,
  LogEnv,
  MongoEnv,
  NatsEnv,
  ProxyEnv,
  parseEnv,
  S3Env,
  SecretsEnv,
  splitListen,
  UpstreamEnv,
} from '@vreg/contracts';
import { TelemetryEnv } from '@vreg/telemetry';
import { z } from 'zod';

const DAY_MS = 86_400_000;

/**
 * Garbage collection of stored objects (the embedded runner reads these
 * too). Intervals of 0 turn the timer off; `POST /gc` still runs.
 */
export const CatalogGcEnv = {
  /** Milliseconds an object no live entry references is kept before GC may delete it: room for fills in flight. */
  VREG_GC_GRACE_MS: intFrom(0, 30 * DAY_MS).default(3_600_000),
  /** Milliseconds between periodic GC sweeps (0 = only on POST /gc). */
  VREG_GC_INTERVAL_MS: intFrom(0, 30 * DAY_MS).default(900_000),
  /** Milliseconds between passes deleting pending_destruction entries, which also run queued gc jobs (0 = only on POST /gc). */
  VREG_DESTRUCTION_INTERVAL_MS: intFrom(0, DAY_MS).default(60_000),
};

/**
 * Cache lifecycle: purge/cleanup job polling, the cleanup-policy scheduler
 * and the quota sweep (the embedded runner reads these too). Intervals of 0
 * turn the timer off.
 */
export const CatalogLifecycleEnv = {
  /** Milliseconds between looks for queued purge and cleanup jobs (jobs queued by this process start at once). */
  VREG_JOB_POLL_INTERVAL_MS: intFrom(0, 3_600_000).default(5_000),
  /** Milliseconds between looks for due cleanup policies (0 = policies run only on POST .../cleanup_policy/run). */
  VREG_CLEANUP_SCHEDULER_INTERVAL_MS: intFrom(0, DAY_MS).default(60_000),
  /** Milliseconds between sweeps of every registry with max_stored_bytes (0 = only after stored objects). */
  VREG_QUOTA_SWEEP_INTERVAL_MS: intFrom(0, DAY_MS).default(300_000),
};

/**
 * Warm-up jobs (the embedded runner reads these too): when a warm no fetcher
 * reports on any more is failed. See WarmJobWatchdog for how they relate to
 * the fetcher's VREG_WARM_HEARTBEAT_MS and its redelivery (ack wait).
 */
export const CatalogWarmEnv = {
  /** Milliseconds a running warm may go without a progress snapshot before it fails as abandoned: above the fetcher's heartbeat + its warm ack wait (max(30 s, VREG_FILL_LEASE_TTL_MS)), so a redelivery after a fetcher crash resumes it first. */
  VREG_WARM_ABANDON_MS: intFrom(1000, DAY_MS).default(120_000),
  /** Milliseconds a warm may stay queued (no fetcher has started it) before it fails as abandoned: long, since warms wait for a free fetcher slot. */
  VREG_WARM_QUEUED_ABANDON_MS: intFrom(1000, 7 * DAY_MS).default(1_800_000),
};

/** The records of pull-policy refusals: how long and how many are kept (pruned every 10 minutes). */
export const CatalogPolicyEnv = {
  /** Days a refusal record is kept. */
  VREG_POLICY_DENIALS_MAX_AGE_DAYS: intFrom(1, 3650).default(30),
  /** Refusal records kept at most, the newest. */
  VREG_POLICY_DENIALS_MAX_RECORDS: intFrom(100, 100_000_000).default(100_000),
};

/**
 * What `buildApp` reads, the same in embedded and distributed mode: the
 * lifecycle, GC and warm timings, the consumers' concurrency and the
 * upstream allow-list of the admin API.
 */
export const CatalogAppEnv = {
  ...CatalogGcEnv,
  ...CatalogLifecycleEnv,
  ...CatalogWarmEnv,
  ...CatalogPolicyEnv,
  /** object.stored events handled at once by one catalog process. */
  VREG_CATALOG_OBJECTS_CONCURRENCY: intFrom(1, 64).default(4),
  /** Milliseconds between batched writes of access tokens' last-used times. */
  VREG_LAST_USED_FLUSH_MS: intFrom(100, 3_600_000).default(60_000),
  /** Failed admin API authentications (wrong or malformed bearer tokens) one client address (an IPv6 one by its /64) may make in a row before it gets 429. */
  VREG_ADMIN_AUTH_FAILURES_PER_ADDRESS: intFrom(1, 100_000).default(10),
  /** Seconds for a throttled address to earn back all its admin API attempts. */
  VREG_ADMIN_AUTH_FAILURE_WINDOW_SECONDS: intFrom(1, 86_400).default(300),
  /** Internal networks upstream URLs may point at (SSRF guard of the admin API); the same list as the gateway's and fetcher's. */
  VREG_UPSTREAM_ALLOWED_NETWORKS: UpstreamEnv.VREG_UPSTREAM_ALLOWED_NETWORKS,
};

/** The catalog's settings in embedded and distributed mode (see CatalogAppEnv). */
export type CatalogAppConfig = Readonly<z.infer<z.ZodObject<typeof CatalogAppEnv>>>;

/**
 * Environment of the catalog process. Every variable has a default except
 * the two secrets and the S3 bucket. Nothing else in the catalog reads
 * `process.env`.
 */
export const CatalogEnv = {
  ...LogEnv,
  ...NatsEnv,
  ...MongoEnv,
  ...SecretsEnv,
  // The catalog deletes objects (GC), where the references are counted.
  ...S3Env,
  ...HttpEnv,
  // The admin API counts failed authentications per client address: behind a proxy, the client's.
  ...ProxyEnv,
  ...TelemetryEnv,
  ...CatalogAppEnv,
  /** host:port of the admin API and /healthz. */
  VREG_LISTEN: HttpEnv.VREG_LISTEN.unwrap()
    .refine((v) => splitListen(v).port <= 65_535, 'port must be at most 65535')
    .default('127.0.0.1:5002'),
  /** Bearer token of the admin API: at least 16 characters, no whitespace. */
  VREG_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain whitespace'),
};

/** The catalog process's validated, frozen configuration: the VREG_* variables, like the gateway's and the fetcher's. */
export type CatalogConfig = Readonly<z.infer<z.ZodObject<typeof CatalogEnv>>>;

/**
 * Validates the environment once at start-up.
 * @throws ConfigInvalidError listing every problem at once.
 */
export function loadCatalogConfig(env: Record<string, string | undefined>): CatalogConfig {
  return parseEnv(CatalogEnv, env);
}

/** The app's settings alone, defaults filled (the embedded runner's and tests' way in). */
export function loadCatalogAppConfig(env: Record<string, string | undefined>): CatalogAppConfig {
  return parseEnv(CatalogAppEnv, env);
}
