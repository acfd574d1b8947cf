import { z } from 'zod';

/**
 * Test connection to an upstream (GitLab's "Test upstream"): the catalog
 * asks, the fetcher, which owns upstream HTTP, probes `<url>/v2/` and
 * replies what it found. Nothing is stored.
 */

/** How a test connection ended. */
export const UpstreamTestResults = {
  /** `/v2/` answered 200, with the credentials when some were given. */
  ok: 'ok',
  /** Refused after authenticating (401/403), credentials needed and missing, or refused by the token endpoint. */
  unauthorized: 'unauthorized',
  /** Nothing answered: connection refused, DNS or TLS failure, timeout. */
  unreachable: 'unreachable',
  /** Something answered, but not a registry API v2 (404, or no `Docker-Distribution-API-Version` on an answer other than 200/401). */
  notARegistry: 'not_a_registry',
  /** 429 from the registry or its token endpoint. */
  rateLimited: 'rate_limited',
  /** Anything else: 5xx, a broken token endpoint, a stored password that no configured key opens. */
  error: 'error',
} as const;
export type UpstreamTestResult = (typeof UpstreamTestResults)[keyof typeof UpstreamTestResults];
export const UpstreamTestResultSchema = z.enum([
  UpstreamTestResults.ok,
  UpstreamTestResults.unauthorized,
  UpstreamTestResults.unreachable,
  UpstreamTestResults.notARegistry,
  UpstreamTestResults.rateLimited,
  UpstreamTestResults.error,
]);

/** Longest probe a request may ask for, in ms. */
export const UPSTREAM_TEST_MAX_TIMEOUT_MS = 120_000;

/**
 * `vreg.fetcher.upstream.test` request. The password travels sealed with the
 * shared secrets key (`SecretBox`): a stored upstream's as stored, a typed
 * one sealed by the catalog before sending.
 */
export const UpstreamTestRequestSchema = z.object({
  /** Base URL of the upstream registry, http(s), without credentials. */
  url: z.string().min(1).max(2048),
  /** User name for Basic auth to the registry or its token realm. */
  username: z.string().min(1).max(255).optional(),
  /** `SecretBox.seal(<password>)`; never the plaintext. */
  passwordSealed: z.string().min(1).max(16_384).optional(),
  /** Deadline of the whole probe in ms; past it the result is `unreachable`. */
  timeoutMs: z.number().int().min(100).max(UPSTREAM_TEST_MAX_TIMEOUT_MS),
});
export type UpstreamTestRequest = z.infer<typeof UpstreamTestRequestSchema>;

/** What the probe found. Never carries a credential or a token. */
export const UpstreamTestReplySchema = z.object({
  /** `result === 'ok'`. */
  success: z.boolean(),
  result: UpstreamTestResultSchema,
  /** The HTTP status that decided the result (of `/v2/` or the token endpoint); absent when nothing answered. */
  httpStatus: z.number().int().min(100).max(599).optional(),
  /** Wall time of the probe, token exchange included, in ms. */
  latencyMs: z.number().int().nonnegative(),
  /** One sentence for a person; names the upstream by origin and path only. */
  message: z.string(),
});
export type UpstreamTestReply = z.infer<typeof UpstreamTestReplySchema>;
