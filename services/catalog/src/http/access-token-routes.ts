import { z } from 'zod';
import { type AccessToken, accessTokenState } from '../domain/access-token.ts';
import type { AccessTokens } from '../domain/access-tokens.ts';
import { AccessTokenCreateBody, AccessTokenCreatedJson, AccessTokenJson } from './access-token-schemas.ts';
import { adminPrincipalOf, visibleRegistryIds } from './admin-auth.ts';
import { errorResponses, IdParams, NoContent, PageQuery } from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

/** The JSON of an access token: never the secret, never its digest. */
export function toAccessTokenJson(token: AccessToken, now = new Date()): z.input<typeof AccessTokenJson> {
  return {
    id: token.id,
    name: token.name,
    token_prefix: token.tokenPrefix,
    scopes: [...token.scopes],
    ...(token.registryIds === undefined ? {} : { registry_ids: [...token.registryIds] }),
    ...(token.expiresAt === undefined ? {} : { expires_at: token.expiresAt.toISOString() }),
    ...(token.lastUsedAt === undefined ? {} : { last_used_at: token.lastUsedAt.toISOString() }),
    revoked: token.revokedAt !== undefined,
    ...(token.revokedAt === undefined ? {} : { revoked_at: token.revokedAt.toISOString() }),
    active: accessTokenState(token, now) === 'active',
    created_at: token.createdAt.toISOString(),
    updated_at: token.updatedAt.toISOString(),
  };
}

/** `/access_tokens` and `/access_tokens/:id`. */
export const accessTokenRoutes: AdminRoutes<{ tokens: AccessTokens }> = async (app, { tokens }) => {
  app.post('/access_tokens', {
    config: {
      reach: RouteReaches.caller,
      adminOnly: true,
      summary: 'Create an access token; the response carries the token, shown this once',
    },
    schema: { body: AccessTokenCreateBody, response: { 201: AccessTokenCreatedJson, ...errorResponses(400, 401, 403) } },
    handler: async (request, reply) => {
      const { name, scopes, registry_ids, expires_at } = request.body;
      const created = await tokens.create(
        {
          name,
          scopes,
          ...(registry_ids === undefined ? {} : { registryIds: registry_ids }),
          ...(expires_at === undefined ? {} : { expiresAt: new Date(expires_at) }),
        },
        // An access token grants no more than it holds; the bootstrap token has no such bounds.
        adminPrincipalOf(request)?.grantor,
      );
      // The secret must never be cached by anything between here and the caller.
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...toAccessTokenJson(created.token), token: created.secret });
    },
  });

  app.get('/access_tokens', {
    config: {
      reach: RouteReaches.filtered,
      adminOnly: true,
      summary: 'List access tokens by id, revoked ones included (X-Total, X-Page... headers)',
    },
    schema: { querystring: PageQuery, response: { 200: z.array(AccessTokenJson), ...errorResponses(400, 401, 403) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      // A restricted token sees the tokens restricted to some of its registries, chosen in the query.
      const visible = visibleRegistryIds(adminPrincipalOf(request));
      const result = await tokens.list(page, visible === undefined ? {} : { within: visible });
      setPaginationHeaders(reply, page, result.total);
      const now = new Date();
      return result.items.map((t) => toAccessTokenJson(t, now));
    },
  });

  app.get('/access_tokens/:id', {
    config: { reach: RouteReaches.accessToken, adminOnly: true, summary: 'Get an access token (never the secret)' },
    schema: { params: IdParams, response: { 200: AccessTokenJson, ...errorResponses(401, 403, 404) } },
    handler: async (request) => toAccessTokenJson(await tokens.get(request.params.id)),
  });

  app.delete('/access_tokens/:id', {
    config: { reach: RouteReaches.accessToken, adminOnly: true, summary: 'Revoke an access token for good (it stays listed as revoked)' },
    schema: { params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => {
      await tokens.revoke(request.params.id);
      return reply.status(204).send(undefined);
    },
  });
};
