/**
 * Error codes shared by every service. Domain code throws `AppError`
 * subclasses; the gateway maps `code` to an OCI error code and status in one
 * table, the admin API likewise. Every code is listed in docs/errors.md.
 */
export const ErrorCodes = {
  nameInvalid: 'NAME_INVALID',
  nameUnknown: 'NAME_UNKNOWN',
  manifestUnknown: 'MANIFEST_UNKNOWN',
  manifestInvalid: 'MANIFEST_INVALID',
  blobUnknown: 'BLOB_UNKNOWN',
  digestInvalid: 'DIGEST_INVALID',
  unsupported: 'UNSUPPORTED',
  unauthorized: 'UNAUTHORIZED',
  denied: 'DENIED',
  /** The registry's pull policy refused the pull: a rule, or a missing or untrusted signature. */
  policyDenied: 'POLICY_DENIED',
  tooManyRequests: 'TOOMANYREQUESTS',
  rangeInvalid: 'RANGE_INVALID',
  upstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  upstreamAuthFailed: 'UPSTREAM_AUTH_FAILED',
  upstreamRateLimited: 'UPSTREAM_RATE_LIMITED',
  blobDigestMismatch: 'BLOB_DIGEST_MISMATCH',
  blobTooLarge: 'BLOB_TOO_LARGE',
  blobStoreUnavailable: 'BLOB_STORE_UNAVAILABLE',
  catalogUnavailable: 'CATALOG_UNAVAILABLE',
  fetcherUnavailable: 'FETCHER_UNAVAILABLE',
  fillLeaseUnavailable: 'FILL_LEASE_UNAVAILABLE',
  /** An upstream already has as many blob fills running in this process as VREG_UPSTREAM_MAX_CONCURRENT_FILLS allows: retry after a while. */
  upstreamBusy: 'UPSTREAM_BUSY',
  /** An upstream URL's host is, or resolves to, an internal address the SSRF guard refuses. */
  upstreamAddressBlocked: 'UPSTREAM_ADDRESS_BLOCKED',
  /** A consumer's "not yet": another process holds the object's fill lease. */
  fillInProgress: 'FILL_IN_PROGRESS',
  /** A consumer's "not yet": a GC sweep is deleting the event's object. */
  gcInProgress: 'GC_IN_PROGRESS',
  /** A consumer's "never": no retry can change the outcome; the message is dead-lettered at once. */
  permanentFailure: 'PERMANENT_FAILURE',
  validationFailed: 'VALIDATION_FAILED',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  configInvalid: 'CONFIG_INVALID',
  internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The one error type of vreg: check by `code`, never by class or message. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable context (never secrets). Becomes `detail` in the OCI body. */
  readonly detail: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options?.detail;
  }
}

export class NameInvalidError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.nameInvalid, message, { detail });
  }
}
export class NameUnknownError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.nameUnknown, message, { detail });
  }
}
export class ManifestUnknownError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.manifestUnknown, message, { detail });
  }
}
export class BlobUnknownError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.blobUnknown, message, { detail });
  }
}
export class DigestInvalidError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.digestInvalid, message, { detail });
  }
}
export class UnsupportedError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.unsupported, message, { detail });
  }
}
export class UnauthorizedError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.unauthorized, message, { detail });
  }
}
export class DeniedError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.denied, message, { detail });
  }
}
/** The pull policy refused: the message names the rule or says what the signature check found. */
export class PolicyDeniedError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.policyDenied, message, { detail });
  }
}
export class RangeInvalidError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.rangeInvalid, message, { detail });
  }
}
export class UpstreamUnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown; detail?: unknown }) {
    super(ErrorCodes.upstreamUnavailable, message, options);
  }
}
export class TooManyRequestsError extends AppError {
  /** Seconds the client should wait, from the upstream's Retry-After when known. */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, retryAfterSeconds?: number, cause?: unknown) {
    super(ErrorCodes.tooManyRequests, message, { cause, detail: retryAfterSeconds === undefined ? undefined : { retryAfterSeconds } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/**
 * Every upstream that could serve a blob already runs as many fills in this
 * process as allowed (VREG_UPSTREAM_MAX_CONCURRENT_FILLS): a client retries
 * after `retryAfterSeconds`, a consumer naks with backoff.
 */
export class UpstreamBusyError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, detail?: unknown) {
    super(ErrorCodes.upstreamBusy, message, { detail });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** An upstream's blob is larger than that upstream's limit (max_blob_size_bytes, VREG_UPSTREAM_MAX_BLOB_BYTES): refused, nothing stored. */
export class BlobTooLargeError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.blobTooLarge, message, { detail });
  }
}
export class CatalogUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.catalogUnavailable, message, { cause });
  }
}
/** No fetcher answered a request only the fetcher can serve (it owns upstream HTTP): an upstream test connection. */
export class FetcherUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.fetcherUnavailable, message, { cause });
  }
}
export class ValidationError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.validationFailed, message, { detail });
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.notFound, message, { detail });
  }
}
export class ConflictError extends AppError {
  constructor(message: string, detail?: unknown) {
    super(ErrorCodes.conflict, message, { detail });
  }
}
export class ConfigInvalidError extends AppError {
  /** One line per problem, all of them at once. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ErrorCodes.configInvalid, `invalid configuration:\n  - ${problems.join('\n  - ')}`, { detail: { problems } });
    this.problems = problems;
  }
}

/**
 * The codes a message handler throws to say "not ready yet, another process
 * is on it": the message comes back after the usual backoff, logged at debug
 * and not marked as an error on its span, since nothing failed.
 */
export const RetryLaterCodes = [ErrorCodes.fillInProgress, ErrorCodes.gcInProgress, ErrorCodes.upstreamBusy] as const;
export type RetryLaterCode = (typeof RetryLaterCodes)[number];

/** Whether `err` is a handler's "not ready yet" (see RetryLaterCodes). */
export function isRetryLater(err: unknown): boolean {
  return RetryLaterCodes.some((code) => hasCode(err, code));
}

/** True when `err` carries one of our codes (also for errors from other packages that follow the same shape). */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
