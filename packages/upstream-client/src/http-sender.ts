import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCodes } from '@vreg/contracts';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { UpstreamError } from './errors.ts';
import { UpstreamAuthError, UpstreamRateLimitedError, UpstreamUnavailableError } from './errors.ts';
import { headerValue, parseRetryAfter } from './upstream-head.ts';

/** The logger the client accepts: any pino-like object with `debug` and `warn`. */
export interface UpstreamLogger {
  /** Logs a constant message with structured fields; fields never carry secrets. */
  debug(fields: object, message?: string): void;
  /** Same, at warn level (rejected tokens, odd upstream answers). */
  warn(fields: object, message?: string): void;
}

/** A GET or HEAD to send. */
export interface SendRequest {
  /** Only safe methods: redirects are followed by repeating the same method. */
  method: 'GET' | 'HEAD';
  /** Absolute http(s) URL. */
  url: URL;
  /** Lower-case header names. `authorization` is dropped on any hop to another origin. */
  headers: Record<string, string>;
  /** Caller's cancellation. */
  signal?: AbortSignal | undefined;
}

/** The final, non-redirect response, body unread. */
export interface SentResponse {
  /** URL that produced this response, after redirects. */
  url: URL;
  /** HTTP status. */
  statusCode: number;
  /** Response headers, lower-case names. */
  headers: IncomingHttpHeaders;
  /** Unread body; the receiver must consume, dump or destroy it. */
  body: Dispatcher.ResponseData['body'];
}

/** Timeouts and limits of an {@link HttpSender}. */
export interface HttpSenderOptions {
  /** Time to first response byte, in ms. */
  headersTimeoutMs: number;
  /** Longest gap between body chunks while the reader wants more, in ms. */
  bodyIdleTimeoutMs: number;
  /** Redirects followed before giving up. */
  maxRedirects: number;
  /** `User-Agent` sent on every request. */
  userAgent: string;
  /** Optional logger. */
  logger?: UpstreamLogger | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Sends GET/HEAD requests through a shared undici dispatcher and follows
 * redirects by hand, because the upstream's credentials must never reach
 * another origin: Docker Hub, ghcr.io and quay.io send blobs from a CDN by
 * 307, and a presigned CDN URL given our bearer token would leak it.
 */
export class HttpSender {
  /**
   * @param dispatcher the shared keep-alive agent
   * @param options timeouts, redirect limit, user agent, logger
   */
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: HttpSenderOptions,
  ) {}

  /**
   * Sends `req`, following up to `maxRedirects` redirects (relative
   * `Location`s resolved against the current URL).
   * @throws UpstreamUnavailableError on connection failure, timeout, a
   *   redirect without `Location`, a non-http(s) target or too many hops
   * @throws the signal's reason when aborted
   */
  async send(req: SendRequest): Promise<SentResponse> {
    let url = req.url;
    let headers: Record<string, string> = { ...req.headers, 'user-agent': this.options.userAgent };
    for (let hops = 0; ; hops++) {
      const res = await this.#once(req.method, url, headers, req.signal);
      if (!REDIRECTS.has(res.statusCode)) return { url, ...res };
      await discardBody(res.body);
      const location = headerValue(res.headers, 'location');
      if (location === undefined || location === '') {
        throw new UpstreamUnavailableError(`upstream ${describeUrl(url)} answered ${res.statusCode} without Location`, {
          status: res.statusCode,
        });
      }
      if (hops >= this.options.maxRedirects) {
        throw new UpstreamUnavailableError(`upstream ${describeUrl(req.url)} redirected more than ${this.options.maxRedirects} times`, {
          status: res.statusCode,
        });
      }
      const next = parseLocation(location, url);
      if (next.origin !== url.origin) headers = withoutAuthorization(headers);
      this.options.logger?.debug({ from: describeUrl(url), to: describeUrl(next), status: res.statusCode }, 'following upstream redirect');
      url = next;
    }
  }

  async #once(method: SendRequest['method'], url: URL, headers: Record<string, string>, signal: AbortSignal | undefined) {
    try {
      const {
        statusCode,
        headers: resHeaders,
        body,
      } = await request(url, {
        dispatcher: this.dispatcher,
        method,
        headers,
        signal,
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyIdleTimeoutMs,
      });
      return { statusCode, headers: resHeaders, body };
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      if (errorCode(err) === ErrorCodes.upstreamAddressBlocked) {
        throw new UpstreamUnavailableError(`upstream ${describeUrl(url)} not contacted: ${(err as Error).message}`, { cause: err });
      }
      throw new UpstreamUnavailableError(`upstream ${describeUrl(url)} unreachable: ${errorCode(err)}`, { cause: err });
    }
  }
}

/**
 * Maps a final status the caller does not treat as success to the
 * matching error: 401/403 → auth, 429 → rate limited, anything else →
 * unavailable.
 */
export function errorForStatus(res: Pick<SentResponse, 'url' | 'statusCode' | 'headers'>): UpstreamError {
  const where = describeUrl(res.url);
  const status = res.statusCode;
  if (status === 401 || status === 403) {
    return new UpstreamAuthError(`upstream ${where} refused authentication (${status})`, { status });
  }
  if (status === 429) {
    const retryAfter = parseRetryAfter(headerValue(res.headers, 'retry-after'));
    const hint = retryAfter === undefined ? '' : `, retry after ${retryAfter}s`;
    return new UpstreamRateLimitedError(`upstream ${where} rate-limited the request${hint}`, retryAfter, { status });
  }
  return new UpstreamUnavailableError(`upstream ${where} answered ${status}`, { status });
}

/** Origin and path only: no user-info, no query (CDN URLs carry signatures there). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Reads and drops a discarded response's body so the socket returns to the pool. */
export async function discardBody(body: SentResponse['body']): Promise<void> {
  try {
    await body.dump();
  } catch {
    // A broken body of a response we throw away changes nothing.
  }
}

function parseLocation(location: string, base: URL): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch (err) {
    throw new UpstreamUnavailableError(`upstream ${describeUrl(base)} redirected to an invalid URL`, { cause: err });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new UpstreamUnavailableError(`upstream ${describeUrl(base)} redirected to a ${next.protocol} URL`);
  }
  next.username = '';
  next.password = '';
  return next;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const { authorization: _dropped, ...rest } = headers;
  return rest;
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'unknown error';
}
