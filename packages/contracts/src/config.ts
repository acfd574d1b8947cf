import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigInvalidError } from './errors.ts';

/**
 * Settings shared by several services, as environment variables. Each
 * service's `config.ts` composes the pieces it needs, parses `process.env`
 * once at start-up with `parseEnv` and passes the frozen result down.
 */
/** A yes/no setting: `true`/`1` or `false`/`0`. */
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An integer setting from `min` to `max` inclusive (the environment's string, coerced). */
export const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list setting: entries trimmed, blank ones dropped; none for `undefined`. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/**
 * A 32-byte key written as 64 hex chars, or as base64 or base64url (43
 * characters and an optional `=`), surrounding spaces ignored; undefined when
 * it is neither. Strict on purpose: Node's base64 decoder skips characters it
 * does not know, so a mistyped key could otherwise decode to 32 other bytes.
 */
export function parseKey(value: string): Buffer | undefined {
  const v = value.trim();
  if (/^[a-f0-9]{64}$/i.test(v)) return Buffer.from(v, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) return undefined;
  const bytes = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

const isKey = (v: string): boolean => parseKey(v) !== undefined;

export const LogEnv = {
  /** pino level. */
  VREG_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export const NatsEnv = {
  /** Comma-separated NATS server URLs. */
  VREG_NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Prefix for every subject, stream, consumer and KV bucket, so several vreg installs (or tests) share one NATS. Empty for none. */
  VREG_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,32}$/, 'letters, digits, _ and - only, at most 32')
    .default(''),
  /** Replicas for streams and KV buckets (3 in a NATS cluster). */
  VREG_NATS_REPLICAS: intFrom(1, 5).default(1),
  /**
   * Bytes each stream may hold on a NATS server (each of its replicas); past
   * it the oldest messages go. JetStream reserves it up front: the server's
   * max_file_store must hold 6 streams (VREG_FETCH, _OBJECTS, _SERVED, _WARM,
   * _WARM_PROGRESS, _DEAD) of this size per namespace, 1.5 GiB by default.
   * 256 MiB: about 800 000 fetch requests, or a week of download counts from
   * ten busy gateways.
   */
  VREG_NATS_STREAM_MAX_BYTES: intFrom(1 << 20, 2 ** 40).default(256 << 20),
  /** Messages each stream may hold; past it the oldest go. */
  VREG_NATS_STREAM_MAX_MSGS: intFrom(1000, 1_000_000_000).default(1_000_000),
  /** Milliseconds a message is kept at most (events, and commands not yet done); dead letters keep 30 days. 7 days. */
  VREG_NATS_STREAM_MAX_AGE_MS: intFrom(3_600_000, 365 * 86_400_000).default(7 * 86_400_000),
};

/** The bounds of every stream (see NatsEnv); dead letters keep their own, longer age. */
export interface StreamLimits {
  readonly maxBytes: number;
  readonly maxMessages: number;
  readonly maxAgeMs: number;
}

/** The stream bounds of a config holding NatsEnv's settings. */
export function streamLimitsOf(config: {
  VREG_NATS_STREAM_MAX_BYTES: number;
  VREG_NATS_STREAM_MAX_MSGS: number;
  VREG_NATS_STREAM_MAX_AGE_MS: number;
}): StreamLimits {
  return {
    maxBytes: config.VREG_NATS_STREAM_MAX_BYTES,
    maxMessages: config.VREG_NATS_STREAM_MAX_MSGS,
    maxAgeMs: config.VREG_NATS_STREAM_MAX_AGE_MS,
  };
}

export const MongoEnv = {
  /** MongoDB connection string (any MongoDB-wire server: MongoDB, FerretDB). */
  VREG_MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .default('mongodb://127.0.0.1:27017/'),
  /** Database name. */
  VREG_MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only')
    .default('vreg'),
};

export const S3Env = {
  /** S3 endpoint for S3-compatible servers (MinIO, moto); unset for AWS. */
  VREG_S3_ENDPOINT: z.url().optional(),
  VREG_S3_REGION: z.string().min(1).default('us-east-1'),
  VREG_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name'),
  VREG_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  VREG_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style addressing, needed by most S3-compatible servers. */
  VREG_S3_FORCE_PATH_STYLE: bool.default(true),
  /** Multipart part size in MiB: one upload holds two parts in memory at most (one uploading, one filling). */
  VREG_S3_PART_SIZE_MIB: intFrom(5, 512).default(8),
  /**
   * Create the bucket at start-up when it does not exist. Off by default: the
   * bucket must exist (and /readyz answers 503 naming it when it does not),
   * since creating one is usually a platform decision (region, encryption,
   * lifecycle rules).
   */
  VREG_S3_CREATE_BUCKET: bool.default(false),
};

export const SecretsEnv = {
  /** 32-byte key, base64 or 64 hex chars: seals upstream passwords at rest (and access tokens on the bus). */
  VREG_SECRET_KEY: z.string().refine(isKey, 'must be 32 bytes as 64 hex chars or base64 (44 characters)'),
  /**
   * Keys retired from sealing that still open values sealed with them,
   * comma-separated, each like VREG_SECRET_KEY. For rotation: list the new
   * key here everywhere, then swap it with VREG_SECRET_KEY everywhere, then
   * drop the old one once nothing is sealed with it.
   */
  VREG_SECRET_KEY_PREVIOUS: z
    .string()
    .refine((v) => splitList(v).every(isKey), 'must be comma-separated keys of 32 bytes, each 64 hex chars or base64')
    .optional(),
};

export const UpstreamEnv = {
  /** TCP + TLS connect timeout of an upstream request. */
  VREG_UPSTREAM_CONNECT_TIMEOUT_MS: intFrom(100, 600_000).default(10_000),
  /** Time from sending a request to the upstream's response headers (first byte). */
  VREG_UPSTREAM_HEADERS_TIMEOUT_MS: intFrom(100, 600_000).default(30_000),
  /** Longest silence of an upstream in the middle of a body (idle). */
  VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS: intFrom(100, 3_600_000).default(60_000),
  /**
   * Internal addresses upstreams may live at (SSRF guard), comma-separated:
   * CIDRs (`10.0.0.0/8`), addresses (`127.0.0.1`), host names
   * (`registry.internal`) and suffixes (`*.corp.example`). Loopback,
   * link-local (cloud metadata), private, CGNAT, multicast and unspecified
   * addresses are refused unless listed here. Every service reading upstream
   * URLs (gateway, fetcher, catalog) needs the same list.
   */
  VREG_UPSTREAM_ALLOWED_NETWORKS: z
    .string()
    .refine((v) => splitList(v).every(isUpstreamAllowListEntry), 'must be comma-separated CIDRs, IP addresses, host names or *.suffixes')
    .optional(),
  /** Largest blob fetched from an upstream, unless the upstream sets its own; 0 = no limit. */
  VREG_UPSTREAM_MAX_BLOB_BYTES: intFrom(0, Number.MAX_SAFE_INTEGER).default(0),
};

/**
 * One entry of VREG_UPSTREAM_ALLOWED_NETWORKS: a CIDR, an IP address
 * (bracketed or not), a host name, or `*.` and a host name. The one grammar:
 * the config schema checks it at start-up and the upstream client's
 * address policy parses by it, so no entry passes one and breaks the other.
 */
export function isUpstreamAllowListEntry(entry: string): boolean {
  const e = entry.toLowerCase();
  const slash = e.indexOf('/');
  if (slash >= 0) {
    const family = isIP(e.slice(0, slash));
    const prefix = e.slice(slash + 1);
    return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  }
  if (isIP(e.replace(/^\[(.*)\]$/, '$1')) !== 0) return true;
  const host = e.startsWith('*.') ? e.slice(2) : e;
  // DNS: at most 253 characters, labels of 1 to 63.
  return host.length <= 253 && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(host);
}

export const HttpEnv = {
  /** host:port the HTTP server listens on. */
  VREG_LISTEN: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:5000'),
  /** Largest request line plus headers the pull API (and embedded mode's admin API) accepts; past it, 431. */
  VREG_MAX_HEADER_BYTES: intFrom(4096, 1 << 20).default(16 * 1024),
  /** Longest request URL (path and query) the pull API (and embedded mode's admin API) accepts; past it, 414. */
  VREG_MAX_URL_BYTES: intFrom(512, 1 << 20).default(4 * 1024),
  /**
   * How long a request may take to arrive, headers and body, ms; past it the
   * connection gets 408 and is closed (a client trickling a body or headers
   * holds nothing for longer). Answers are not bounded by it: a blob download
   * takes as long as it takes.
   */
  VREG_REQUEST_RECEIVE_TIMEOUT_MS: intFrom(1000, 3_600_000).default(60_000),
  /** Connections one server process holds open at most; past it new ones are closed at once. 0 = no cap. */
  VREG_MAX_CONNECTIONS: intFrom(0, 1_000_000).default(10_000),
};

/** Splits a validated `host:port`. */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

/**
 * Reads a validated key setting (see parseKey).
 * @throws ConfigInvalidError when it is not a 32-byte key.
 */
export function decodeKey(value: string): Buffer {
  const key = parseKey(value);
  if (key === undefined) throw new ConfigInvalidError(['a key must be 32 bytes as 64 hex chars or base64']);
  return key;
}

/** Reads a comma-separated list of keys (VREG_SECRET_KEY_PREVIOUS); none for `undefined` or blank. */
export function decodeKeys(value: string | undefined): Buffer[] {
  return splitList(value).map(decodeKey);
}

/**
 * Validates `env` against `shape` and reports every problem at once as a
 * ConfigInvalidError (one line per variable). The result is frozen.
 */
export function parseEnv<S extends z.ZodRawShape>(shape: S, env: Record<string, string | undefined>): Readonly<z.infer<z.ZodObject<S>>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    throw new ConfigInvalidError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return Object.freeze(result.data);
}
