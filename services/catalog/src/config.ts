import { decodeKey, decodeKeys, HttpEnv, LogEnv, MongoEnv, NatsEnv, parseEnv, SecretsEnv, splitListen, UpstreamEnv } from '@vreg/contracts';
import { TelemetryEnv, type TelemetryConfig } from '@vreg/telemetry';
import { z } from 'zod';

/**
 * Environment of the catalog process. Every variable has a default except
 * the two secrets. Nothing else in the catalog reads `process.env`.
 */
export const CatalogEnv = {
  ...LogEnv,
  ...NatsEnv,
  ...MongoEnv,
  ...SecretsEnv,
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
      servers: Object.freeze(raw.VREG_NATS_URL.split(',').map((s) => s.trim()).filter((s) => s !== '')),
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
