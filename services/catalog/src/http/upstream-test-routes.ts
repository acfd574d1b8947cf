import { type UpstreamTestReply, UpstreamTestResultSchema } from '@vreg/contracts';
import { z } from 'zod';
import type { UpstreamTests } from '../domain/upstream-tests.ts';
import { errorResponses, IdParams, password, upstreamUrl, username } from './api-schemas.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

export const UpstreamTestBody = z.strictObject({
  url: upstreamUrl,
  username: username.optional(),
  password: password
    .optional()
    .meta({ description: 'Write-only: sealed before it leaves the catalog, never stored, logged or returned', writeOnly: true }),
});

export const UpstreamTestJson = z.object({
  success: z.boolean().meta({ description: 'true exactly when result is ok' }),
  result: UpstreamTestResultSchema.meta({
    description:
      'ok: /v2/ answered 200 (with the credentials, if given); unauthorized: refused after authenticating (401/403), credentials required and missing, or refused by the token endpoint; ' +
      'unreachable: no answer (connection refused, DNS, TLS, timeout); not_a_registry: 404, or no Docker-Distribution-API-Version header on an answer other than 200/401; ' +
      'rate_limited: 429; error: anything else (5xx, a broken token endpoint, a stored password no configured key opens)',
  }),
  http_status: z
    .number()
    .int()
    .optional()
    .meta({ description: 'The HTTP status that decided the result (of /v2/ or the token endpoint); absent when nothing answered' }),
  latency_ms: z.number().int().meta({ description: 'Wall time of the probe, token exchange included, in milliseconds' }),
  message: z.string().meta({ description: 'What happened, for a person; never a credential' }),
});

function toUpstreamTestJson(reply: UpstreamTestReply): z.input<typeof UpstreamTestJson> {
  return {
    success: reply.success,
    result: reply.result,
    ...(reply.httpStatus === undefined ? {} : { http_status: reply.httpStatus }),
    latency_ms: reply.latencyMs,
    message: reply.message,
  };
}

/**
 * `POST /upstreams/:id/test` and `POST /upstreams/test`: test connection,
 * as GitLab's "Test upstream". Whatever the upstream does is a 200 with the
 * result; only a missing upstream (404), a bad body (400) or a missing
 * fetcher (503) is an error.
 */
export const upstreamTestRoutes: AdminRoutes<{ tests: UpstreamTests }> = async (app, { tests }) => {
  app.post('/upstreams/:id/test', {
    config: {
      reach: RouteReaches.upstream,
      summary:
        'Test a stored upstream with its stored credentials: reachability, authentication and latency (GET /v2/, made by the fetcher)',
    },
    schema: { params: IdParams, response: { 200: UpstreamTestJson, ...errorResponses(400, 401, 404, 503) } },
    handler: async (request) => toUpstreamTestJson(await tests.testStored(request.params.id)),
  });

  app.post('/upstreams/test', {
    config: {
      reach: RouteReaches.caller,
      summary: 'Test an upstream before adding it (url and optional username and password); nothing is stored',
    },
    schema: { body: UpstreamTestBody, response: { 200: UpstreamTestJson, ...errorResponses(400, 401, 503) } },
    handler: async (request) => {
      const { url, username: user, password: secret } = request.body;
      return toUpstreamTestJson(
        await tests.testCandidate({
          url,
          ...(user === undefined ? {} : { username: user }),
          ...(secret === undefined ? {} : { password: secret }),
        }),
      );
    },
  });
};
