import { ErrorCodes } from '@vreg/contracts';

/**
 * Codes of the errors this package throws. Check errors by `code`, not by
 * class: the classes will be folded into the project's `AppError` family.
 */
export const UpstreamErrorCode = {
  /** The upstream refused our credentials (401/403 after authenticating) or needs credentials we lack. */
  AuthFailed: ErrorCodes.upstreamAuthFailed,
  /** The upstream answered 429 Too Many Requests. */
  RateLimited: ErrorCodes.upstreamRateLimited,
  /** The upstream could not be reached, timed out, broke off, or answered 5xx or another unexpected status. */
  Unavailable: ErrorCodes.upstreamUnavailable,
} as const;

/** One of {@link UpstreamErrorCode}'s values. */
export type UpstreamErrorCode = (typeof UpstreamErrorCode)[keyof typeof UpstreamErrorCode];

/** What an upstream error carries besides its message. */
export interface UpstreamErrorOptions {
  /** HTTP status the upstream answered, when it answered at all. */
  status?: number;
  /** The underlying error (a socket or timeout error from undici), kept for logs. */
  cause?: unknown;
}

/**
 * Base of the errors thrown by the upstream client. Messages name the
 * upstream by origin and path only: never credentials, tokens, the
 * `Authorization` header or a URL's query string (CDN redirects carry
 * signatures there).
 */
export abstract class UpstreamError extends Error {
  /** Stable machine-readable code; see {@link UpstreamErrorCode}. */
  abstract readonly code: UpstreamErrorCode;
  /** HTTP status the upstream answered, if any. */
  readonly status: number | undefined;

  /**
   * @param message human-readable, secret-free description
   * @param options status and cause
   */
  constructor(message: string, options: UpstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
  }
}

/** The upstream refused authentication (401/403 after retrying with credentials or a token). */
export class UpstreamAuthError extends UpstreamError {
  /** Always `UPSTREAM_AUTH_FAILED`. */
  readonly code = UpstreamErrorCode.AuthFailed;
}

/** The upstream answered 429; retry no sooner than {@link retryAfterSeconds}. */
export class UpstreamRateLimitedError extends UpstreamError {
  /** Always `UPSTREAM_RATE_LIMITED`. */
  readonly code = UpstreamErrorCode.RateLimited;
  /** Seconds to wait, from `Retry-After` (delta-seconds or HTTP date); `undefined` when absent or malformed. */
  readonly retryAfterSeconds: number | undefined;

  /**
   * @param message human-readable, secret-free description
   * @param retryAfterSeconds parsed `Retry-After`, if any
   * @param options status (429) and cause
   */
  constructor(message: string, retryAfterSeconds: number | undefined, options: UpstreamErrorOptions = {}) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The upstream is unreachable, timed out, broke off mid-body, or answered 5xx or an unexpected status. */
export class UpstreamUnavailableError extends UpstreamError {
  /** Always `UPSTREAM_UNAVAILABLE`. */
  readonly code = UpstreamErrorCode.Unavailable;
}

/** Whether `err` is one of this package's errors (by code, so it survives duplicated module copies). */
export function isUpstreamError(err: unknown): err is UpstreamError {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return Object.values(UpstreamErrorCode).some((c) => c === code);
}
