import { type UpstreamTestResult, UpstreamTestResults } from '@vreg/contracts';
import { UpstreamErrorCode } from './errors.ts';
import type { SentResponse } from './http-sender.ts';
import { describeUrl } from './http-sender.ts';
import { headerValue, parseRetryAfter } from './upstream-head.ts';

/**
 * How a test connection to an upstream ended (GitLab's "Test upstream"):
 * the contract's results, which the catalog answers with unchanged.
 */
export const UpstreamPingResults = UpstreamTestResults;
export type UpstreamPingResult = UpstreamTestResult;

/** Options of {@link UpstreamRegistry.ping}. */
export interface PingOptions {
  /**
   * Aborting it stops the probe. An abort whose reason is a `TimeoutError`
   * (`AbortSignal.timeout`) is the probe's deadline and is reported as
   * `unreachable`; any other reason is thrown.
   */
  signal?: AbortSignal;
}

/** What a test connection found. Never carries credentials or tokens. */
export interface UpstreamPing {
  result: UpstreamPingResult;
  /** The HTTP status that decided the result (of `/v2/` or of the token endpoint); absent when nothing answered. */
  status?: number;
  /** Wall time of the whole probe, token exchange included, in whole milliseconds. */
  latencyMs: number;
  /** One sentence for a person: what answered and how. Names the upstream by origin and path only. */
  message: string;
}

/** How the final `/v2/` request was authorized. */
export type PingAuth = 'anonymous' | 'bearer' | 'basic';

/**
 * Classifies the final answer of `/v2/`. 5xx is `error` even without the
 * registry header: a registry behind a failing proxy is still a registry.
 */
export function classifyPingAnswer(
  res: Pick<SentResponse, 'url' | 'statusCode' | 'headers'>,
  auth: PingAuth,
  hadCredentials: boolean,
): Omit<UpstreamPing, 'latencyMs'> {
  const where = describeUrl(res.url);
  const status = res.statusCode;
  const apiVersion = headerValue(res.headers, 'docker-distribution-api-version');
  if (status === 200) {
    const how = auth === 'anonymous' ? 'anonymously' : auth === 'bearer' ? 'with a bearer token' : 'with Basic credentials';
    return {
      result: UpstreamPingResults.ok,
      status,
      message: `${where} answered 200 ${how}${apiVersion === undefined ? '' : ` (${apiVersion})`}`,
    };
  }
  if (status === 401 || status === 403) {
    const message = hadCredentials ? `${where} refused the credentials (${status})` : `${where} requires credentials (${status})`;
    return { result: UpstreamPingResults.unauthorized, status, message };
  }
  if (status === 429) return { result: UpstreamPingResults.rateLimited, status, message: rateLimitedMessage(where, res.headers) };
  if (status === 404)
    return { result: UpstreamPingResults.notARegistry, status, message: `${where} answered 404: no registry API v2 there` };
  if (status >= 500) return { result: UpstreamPingResults.error, status, message: `${where} answered ${status}` };
  if (apiVersion === undefined) {
    return {
      result: UpstreamPingResults.notARegistry,
      status,
      message: `${where} answered ${status} without Docker-Distribution-API-Version: not a registry API v2`,
    };
  }
  return { result: UpstreamPingResults.error, status, message: `${where} answered ${status}` };
}

/**
 * Classifies an error of this package thrown while probing (answering the
 * challenge included). `undefined` for anything else: a bug, rethrown.
 *
 * Transport failures are the `UPSTREAM_UNAVAILABLE` errors that carry no
 * status and a network cause (undici's or the socket's error); one without
 * a cause (a token endpoint's invalid JSON) or caused by a `TypeError` (an
 * invalid redirect URL) got an answer, just a wrong one.
 */
export function classifyPingFailure(err: unknown): Omit<UpstreamPing, 'latencyMs'> | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, status, message, cause } = err as { code?: unknown; status?: unknown; message?: unknown; cause?: unknown };
  const text = typeof message === 'string' ? message : 'upstream error';
  const withStatus = typeof status === 'number' ? { status } : {};
  switch (code) {
    case UpstreamErrorCode.AuthFailed:
      return { result: UpstreamPingResults.unauthorized, ...withStatus, message: text };
    case UpstreamErrorCode.RateLimited:
      return { result: UpstreamPingResults.rateLimited, ...withStatus, message: text };
    case UpstreamErrorCode.Unavailable: {
      const transport = status === undefined && cause !== undefined && !(cause instanceof TypeError);
      return { result: transport ? UpstreamPingResults.unreachable : UpstreamPingResults.error, ...withStatus, message: text };
    }
    default:
      return undefined;
  }
}

function rateLimitedMessage(where: string, headers: SentResponse['headers']): string {
  const retryAfter = parseRetryAfter(headerValue(headers, 'retry-after'));
  return `${where} rate-limited the request (429)${retryAfter === undefined ? '' : `, retry after ${retryAfter}s`}`;
}
