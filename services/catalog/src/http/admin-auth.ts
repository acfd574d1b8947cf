import { AccessTokenScopes, DeniedError, ErrorCodes, hasCode, UnauthorizedError } from '@vreg/contracts';
import { safeEqual } from '@vreg/secrets';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AccessToken } from '../domain/access-token.ts';
import { looksLikeAccessToken } from '../domain/access-tokens.ts';

/** Checks a presented access token (`AccessTokens.verify`). */
export interface AdminTokenVerifier {
  /** @throws UnauthorizedError when the token does not work. */
  verify(presented: string): Promise<AccessToken>;
}

/**
 * Who called the admin API: the bootstrap token or an `admin`-scoped access
 * token (`admin`), or a `read_virtual_registry` token (`read`: GET routes
 * only, limited to `registryIds` when the token is restricted).
 */
export type AdminPrincipal =
  | { readonly access: 'admin'; readonly tokenName?: string }
  | { readonly access: 'read'; readonly tokenName: string; readonly registryIds?: readonly string[] };

/** Optional lookups the read-only rules need. */
export interface AdminAuthOptions {
  /** The registry an upstream belongs to, for restricted read-only tokens on `/upstreams/:id`; undefined when unknown. */
  upstreamRegistryOf?(upstreamId: string): Promise<string | undefined>;
}

const principals = new WeakMap<FastifyRequest, AdminPrincipal>();

/** The caller the auth hook admitted; undefined on public routes. */
export function adminPrincipalOf(request: FastifyRequest): AdminPrincipal | undefined {
  return principals.get(request);
}

/** Registry ids a principal may see; undefined = all of them. */
export function visibleRegistryIds(principal: AdminPrincipal | undefined): readonly string[] | undefined {
  return principal?.access === 'read' ? principal.registryIds : undefined;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * An `onRequest` hook that admits `Authorization: Bearer <token>` where the
 * token is the bootstrap admin token from config (compared in constant time)
 * or an active access token with the `admin` scope, or, for reading only, an
 * active `read_virtual_registry` token (the console's read-only sessions).
 * No or a wrong token is a 401 UNAUTHORIZED; a write, an access-token route
 * or a registry outside a restricted token's list is a 403 DENIED, both
 * through the admin error handler; the token is never logged (pino redacts
 * the header).
 */
export function adminAuth(
  adminToken: string,
  accessTokens?: AdminTokenVerifier,
  options: AdminAuthOptions = {},
): onRequestAsyncHookHandler {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    if (match === null) throw new UnauthorizedError('an admin token is required (Authorization: Bearer <token>)');
    const presented = match[1] as string;
    if (safeEqual(presented, adminToken)) {
      principals.set(request, { access: 'admin' });
      return;
    }
    if (accessTokens !== undefined && looksLikeAccessToken(presented)) {
      let token: AccessToken | undefined;
      try {
        token = await accessTokens.verify(presented);
      } catch (err) {
        // A store failure is a 500, not a wrong token.
        if (!hasCode(err, ErrorCodes.unauthorized)) throw err;
      }
      if (token !== undefined) {
        if (token.scopes.includes(AccessTokenScopes.admin)) {
          principals.set(request, { access: 'admin', tokenName: token.name });
          return;
        }
        if (token.scopes.includes(AccessTokenScopes.readVirtualRegistry)) {
          const principal: AdminPrincipal = {
            access: 'read',
            tokenName: token.name,
            ...(token.registryIds === undefined ? {} : { registryIds: token.registryIds }),
          };
          await checkReadOnly(request, principal, options);
          principals.set(request, principal);
          return;
        }
        throw new DeniedError('this access token does not have the admin scope');
      }
    }
    throw new UnauthorizedError('the admin token is not valid');
  };
}

/** What a `read_virtual_registry` token may do: read, and only the registries it is restricted to. */
async function checkReadOnly(
  request: FastifyRequest,
  principal: Extract<AdminPrincipal, { access: 'read' }>,
  options: AdminAuthOptions,
): Promise<void> {
  if (!READ_METHODS.has(request.method)) throw new DeniedError('this access token is read-only: changes need a token with the admin scope');
  const route = request.routeOptions.url ?? '';
  if (route.endsWith('/session')) return;
  if (route.includes('/access_tokens')) throw new DeniedError('access tokens are listed only for tokens with the admin scope');
  const allowed = principal.registryIds;
  if (allowed === undefined) return;
  // Restricted: only routes about one of its registries; the registry list is filtered by the caller.
  const params = request.params as { id?: unknown };
  const id = typeof params.id === 'string' ? params.id : undefined;
  if (route.endsWith('/registries')) return;
  if (route.includes('/registries/:id') && id !== undefined && allowed.includes(id)) return;
  if (route.includes('/upstreams/:id') && id !== undefined && options.upstreamRegistryOf !== undefined) {
    const registryId = await options.upstreamRegistryOf(id);
    if (registryId !== undefined && allowed.includes(registryId)) return;
  }
  throw new DeniedError('this access token is restricted to other registries');
}
