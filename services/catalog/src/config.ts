import type { S3EnvSettings } from '@vreg/blob-store';
import {
  decodeKey,
  decodeKeys,
  HttpEnv,
  LogEnv,
  MongoEnv,
  NatsEnv,
  parseEnv,
  S3Env,
  SecretsEnv,
  splitListen,
  UpstreamEnv,
} from '@vreg/contracts';
import { type TelemetryConfig, TelemetryEnv } from '@vreg/telemetry';
import { z } from 'zod';

/**
 * Garbage collection of stored objects (the embedded runner reads these
 * too). Intervals of 0 turn the timer off; `POST /gc` still runs.
 */
export const CatalogGcEnv = {
  /** Milliseconds an object no live entry references is kept before GC may delete it: room for fills in flight. */
  VREG_GC_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400_000)
    .default(3_600_000),
  /** Milliseconds between periodic GC sweeps (0 = only on POST /gc). */
  VREG_GC_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400_000)
    .default(900_000),
  /** Milliseconds between passes deleting pending_destruction entries, which also run queued gc jobs (0 = only on POST /gc). */
  VREG_DESTRUCTION_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
};

/** GC settings, in milliseconds. */
export interface CatalogGcConfig {
  readonly graceMs: number;
  readonly intervalMs: number;
  readonly destructionIntervalMs: number;
}

/** The validated GC settings, from `CatalogGcEnv` values. */
export function gcConfigOf(raw: {
  VREG_GC_GRACE_MS: number;
  VREG_GC_INTERVAL_MS: number;
  VREG_DESTRUCTION_INTERVAL_MS: number;
}): CatalogGcConfig {
  return Object.freeze({
    graceMs: raw.VREG_GC_GRACE_MS,
    intervalMs: raw.VREG_GC_INTERVAL_MS,
    destructionIntervalMs: raw.VREG_DESTRUCTION_INTERVAL_MS,
  });
}

/**
 * Cache lifecycle (issue 8): purge/cleanup job polling, the cleanup-policy
 * scheduler and the quota sweep (the embedded runner reads these too).
 * Intervals of 0 turn the timer off.
 */
export const CatalogLifecycleEnv = {
  /** Milliseconds between looks for queued purge and cleanup jobs (jobs queued by this process start at once). */
  VREG_JOB_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** Milliseconds between looks for due cleanup policies (0 = policies run only on POST .../cleanup_policy/run). */
  VREG_CLEANUP_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  /** Milliseconds between sweeps of every registry with max_stored_bytes (0 = only after stored objects). */
  VREG_QUOTA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
};

/** Lifecycle settings, in milliseconds. */
export interface CatalogLifecycleConfig {
  readonly jobPollIntervalMs: number;
  readonly cleanupSchedulerIntervalMs: number;
  readonly quotaSweepIntervalMs: number;
}

/** The validated lifecycle settings, from `CatalogLifecycleEnv` values. */
export function lifecycleConfigOf(raw: {
  VREG_JOB_POLL_INTERVAL_MS: number;
  VREG_CLEANUP_SCHEDULER_INTERVAL_MS: number;
  VREG_QUOTA_SWEEP_INTERVAL_MS: number;
}): CatalogLifecycleConfig {
  return Object.freeze({
    jobPollIntervalMs: raw.VREG_JOB_POLL_INTERVAL_MS,
    cleanupSchedulerIntervalMs: raw.VREG_CLEANUP_SCHEDULER_INTERVAL_MS,
    quotaSweepIntervalMs: raw.VREG_QUOTA_SWEEP_INTERVAL_MS,
  });
}

/**
 * Warm-up jobs (the embedded runner reads these too): when a warm no fetcher
 * reports on any more is failed. See WarmJobWatchdog for how they relate to
 * the fetcher's VREG_WARM_HEARTBEAT_MS and its redelivery (ack wait).
 */
export const CatalogWarmEnv = {
  /** Milliseconds a running warm may go without a progress snapshot before it fails as abandoned: above the fetcher's heartbeat + its warm ack wait (max(30 s, VREG_FILL_LEASE_TTL_MS)), so a redelivery after a fetcher crash resumes it first. */
  VREG_WARM_ABANDON_MS: z.coerce.number().int().min(1000).max(86_400_000).default(120_000),
  /** Milliseconds a warm may stay queued (no fetcher has started it) before it fails as abandoned: long, since warms wait for a free fetcher slot. */
  VREG_WARM_QUEUED_ABANDON_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000)
    .default(1_800_000),
};

/** Warm watchdog settings, in milliseconds. */
export interface CatalogWarmConfig {
  readonly abandonMs: number;
  readonly queuedAbandonMs: number;
}

/** The validated warm settings, from `CatalogWarmEnv` values. */
export function warmConfigOf(raw: { VREG_WARM_ABANDON_MS: number; VREG_WARM_QUEUED_ABANDON_MS: number }): CatalogWarmConfig {
  return Object.freeze({ abandonMs: raw.VREG_WARM_ABANDON_MS, queuedAbandonMs: raw.VREG_WARM_QUEUED_ABANDON_MS });
}

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
  ...CatalogGcEnv,
  ...CatalogLifecycleEnv,
  ...CatalogWarmEnv,
  ...HttpEnv,
  ...TelemetryEnv,
  /** host:port of the admin API and /healthz. */
  VREG_LISTEN: HttpEnv.VREG_LISTEN.unwrap()
    .refine((v) => splitListen(v).port <= 65_535, 'port must be at most 65535')
    .default('127.0.0.1:5002'),
  /** Bearer token of the admin API: at least 16 characters, no whitespace. */
  VREG_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain whitespace'),
  /** object.stored events handled at once by one catalog process. */
  VREG_CATALOG_OBJECTS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Milliseconds between batched writes of access tokens' last-used times. */
  VREG_LAST_USED_FLUSH_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Internal networks upstream URLs may point at (SSRF guard of the admin API); the same list as the gateway's and fetcher's. */
  VREG_UPSTREAM_ALLOWED_NETWORKS: UpstreamEnv.VREG_UPSTREAM_ALLOWED_NETWORKS,
};

/** The catalog's validated, frozen configuration. */
export interface CatalogConfig {
  /** pino level. */
  readonly logLevel: string;
  readonly nats: {
    readonly servers: readonly string[];
    /** Prefix of subjects, streams and consumers; '' for none. */
    readonly namespace: string;
    readonly replicas: number;
  };
  readonly mongo: { readonly url: string; readonly dbName: string };
  /** 32 bytes: opens and seals upstream passwords. */
  readonly secretKey: Buffer;
  /** Retired keys (VREG_SECRET_KEY_PREVIOUS): open values sealed with them, never seal. */
  readonly previousSecretKeys: readonly Buffer[];
  readonly listen: { readonly host: string; readonly port: number };
  readonly adminToken: string;
  /** Concurrency of the object.stored consumer. */
  readonly objectsConcurrency: number;
  /** Milliseconds between batched writes of access tokens' last-used times. */
  readonly lastUsedFlushMs: number;
  /** VREG_UPSTREAM_ALLOWED_NETWORKS, comma-separated; unset, upstreams must be at public addresses. */
  readonly upstreamAllowedNetworks: string | undefined;
  /** The blob store GC deletes from: the same bucket the gateway and fetcher write. */
  readonly s3: Readonly<S3EnvSettings>;
  readonly gc: CatalogGcConfig;
  readonly lifecycle: CatalogLifecycleConfig;
  readonly warm: CatalogWarmConfig;
  /** Trace export settings (the standard OTEL_* variables and VREG_OTEL). */
  readonly telemetry: TelemetryConfig;
}

/**
 * Validates the environment once at start-up.
 * @throws ConfigInvalidError listing every problem at once.
 */
export function loadCatalogConfig(env: Record<string, string | undefined>): CatalogConfig {
  const raw = parseEnv(CatalogEnv, env);
  return Object.freeze({
    logLevel: raw.VREG_LOG_LEVEL,
    nats: Object.freeze({
      servers: Object.freeze(
        raw.VREG_NATS_URL.split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
      namespace: raw.VREG_NAMESPACE,
      replicas: raw.VREG_NATS_REPLICAS,
    }),
    mongo: Object.freeze({ url: raw.VREG_MONGO_URL, dbName: raw.VREG_MONGO_DB }),
    secretKey: decodeKey(raw.VREG_SECRET_KEY),
    previousSecretKeys: Object.freeze(decodeKeys(raw.VREG_SECRET_KEY_PREVIOUS)),
    listen: Object.freeze(splitListen(raw.VREG_LISTEN)),
    adminToken: raw.VREG_ADMIN_TOKEN,
    objectsConcurrency: raw.VREG_CATALOG_OBJECTS_CONCURRENCY,
    lastUsedFlushMs: raw.VREG_LAST_USED_FLUSH_MS,
    upstreamAllowedNetworks: raw.VREG_UPSTREAM_ALLOWED_NETWORKS,
    s3: Object.freeze({
      VREG_S3_ENDPOINT: raw.VREG_S3_ENDPOINT,
      VREG_S3_REGION: raw.VREG_S3_REGION,
      VREG_S3_BUCKET: raw.VREG_S3_BUCKET,
      VREG_S3_ACCESS_KEY_ID: raw.VREG_S3_ACCESS_KEY_ID,
      VREG_S3_SECRET_ACCESS_KEY: raw.VREG_S3_SECRET_ACCESS_KEY,
      VREG_S3_FORCE_PATH_STYLE: raw.VREG_S3_FORCE_PATH_STYLE,
      VREG_S3_PART_SIZE_MIB: raw.VREG_S3_PART_SIZE_MIB,
    }),
    gc: gcConfigOf(raw),
    lifecycle: lifecycleConfigOf(raw),
    warm: warmConfigOf(raw),
    telemetry: Object.freeze({
      VREG_OTEL: raw.VREG_OTEL,
      OTEL_EXPORTER_OTLP_ENDPOINT: raw.OTEL_EXPORTER_OTLP_ENDPOINT,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      OTEL_EXPORTER_OTLP_PROTOCOL: raw.OTEL_EXPORTER_OTLP_PROTOCOL,
      OTEL_SDK_DISABLED: raw.OTEL_SDK_DISABLED,
      OTEL_SERVICE_NAME: raw.OTEL_SERVICE_NAME,
    }),
  });
}
