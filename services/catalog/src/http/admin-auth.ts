import { AccessTokenScopes, DeniedError, ErrorCodes, hasCode, TooManyRequestsError, UnauthorizedError } from '@vreg/contracts';
import { type FailureLimiter, rateLimitKey, safeEqual } from '@vreg/secrets';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AccessToken, TokenGrantor } from '../domain/access-token.ts';
import { looksLikeAccessToken } from '../domain/access-tokens.ts';
import { type AdminRouteConfig, type RegistryLocator, RouteReaches } from './route-reach.ts';

/** Checks a presented access token (`AccessTokens.verify`). */
export interface AdminTokenVerifier {
  /** @throws UnauthorizedError when the token does not work. */
  verify(presented: string): Promise<AccessToken>;
}

/**
 * Who called the admin API: the bootstrap token or an `admin`-scoped access
 * token (`admin`), or a `read_virtual_registry` token (`read`: GET routes
 * only). An access token restricted to registries (`registryIds`) reaches
 * only those, whatever its scope: see `RouteReaches`.
 */
export interface AdminPrincipal {
  readonly access: 'admin' | 'read';
  /** The access token's name; absent for the bootstrap admin token. */
  readonly tokenName?: string;
  /** Registries the token is restricted to; absent = every registry. */
  readonly registryIds?: readonly string[];
  /** What the access token holds, which bounds the tokens it may create; absent for the bootstrap admin token. */
  readonly grantor?: TokenGrantor;
}

/** Lookups the reach rules need, and the throttle of failed authentications. */
export interface AdminAuthOptions {
  /**
   * Failed authentications per client address (`rateLimitKey(request.ip)`:
   * an IPv6 client by its /64); past its budget, 429 TOOMANYREQUESTS with
   * Retry-After before the token is even checked. Without it nothing is throttled.
   */
  failures?: FailureLimiter;
  /** Finds the registries of an upstream, cache entry, job or access token for restricted tokens; without it those routes are refused to them. */
  locator?: RegistryLocator;
}

const principals = new WeakMap<FastifyRequest, AdminPrincipal>();

/** The caller the auth hook admitted; undefined on public routes. */
export function adminPrincipalOf(request: FastifyRequest): AdminPrincipal | undefined {
  return principals.get(request);
}

/** Registry ids a principal may see; undefined = all of them. Handlers of `filtered` routes narrow their query to it. */
export function visibleRegistryIds(principal: AdminPrincipal | undefined): readonly string[] | undefined {
  return principal?.registryIds;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * An `onRequest` hook that admits `Authorization: Bearer <token>` where the
 * token is the bootstrap admin token from config (compared in constant time)
 * or an active access token with the `admin` scope, or, for reading only, an
 * active `read_virtual_registry` token (the console's read-only sessions).
 * Then it holds the caller to its reach: a token restricted to registries
 * passes only routes about those registries, as the route's `config.reach`
 * says (a route without one is refused to it).
 * No or a wrong token is a 401 UNAUTHORIZED; a write with a read-only
 * token, an access-token route without the admin scope, or anything beyond
 * a restricted token's registries is a 403 DENIED, both through the admin
 * error handler; the token is never logged (the logger censors the header).
 */
export function adminAuth(
  adminToken: string,
  accessTokens?: AdminTokenVerifier,
  options: AdminAuthOptions = {},
): onRequestAsyncHookHandler {
  return async (request: FastifyRequest) => {
    const principal = await throttled(request, options.failures, () => authenticate(request, adminToken, accessTokens));
    await checkReach(request, principal, options.locator);
    principals.set(request, principal);
  };
}

/**
 * Runs `attempt` unless the caller's address failed too often; a failed
 * authentication (a wrong or malformed token, not a missing one: nobody
 * guessed anything) counts against the address. Successes cost nothing.
 */
async function throttled(
  request: FastifyRequest,
  failures: FailureLimiter | undefined,
  attempt: () => Promise<AdminPrincipal>,
): Promise<AdminPrincipal> {
  if (failures === undefined || request.headers.authorization === undefined) return attempt();
  const key = rateLimitKey(request.ip);
  const wait = failures.retryAfterSeconds(key);
  if (wait !== undefined) {
    request.log.info({ retryAfterSeconds: wait }, 'admin request throttled after repeated failed authentications');
    throw new TooManyRequestsError(`too many failed authentications from this address: retry after ${wait}s`, wait);
  }
  try {
    return await attempt();
  } catch (err) {
    if (hasCode(err, ErrorCodes.unauthorized)) failures.fail(key);
    throw err;
  }
}

async function authenticate(
  request: FastifyRequest,
  adminToken: string,
  accessTokens: AdminTokenVerifier | undefined,
): Promise<AdminPrincipal> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  if (match === null) throw new UnauthorizedError('an admin token is required (Authorization: Bearer <token>)');
  const presented = match[1] as string;
  if (safeEqual(presented, adminToken)) return { access: 'admin' };
  if (accessTokens !== undefined && looksLikeAccessToken(presented)) {
    let token: AccessToken | undefined;
    try {
      token = await accessTokens.verify(presented);
    } catch (err) {
      // A store failure is a 500, not a wrong token.
      if (!hasCode(err, ErrorCodes.unauthorized)) throw err;
    }
    if (token !== undefined) {
      const access = token.scopes.includes(AccessTokenScopes.admin)
        ? 'admin'
        : token.scopes.includes(AccessTokenScopes.readVirtualRegistry)
          ? 'read'
          : undefined;
      if (access === undefined) throw new DeniedError('this access token does not have the admin scope');
      return {
        access,
        tokenName: token.name,
        ...(token.registryIds === undefined ? {} : { registryIds: token.registryIds }),
        grantor: {
          scopes: token.scopes,
          ...(token.registryIds === undefined ? {} : { registryIds: token.registryIds }),
          ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }),
        },
      };
    }
  }
  throw new UnauthorizedError('the admin token is not valid');
}

/** What the caller may do on this route: read-only tokens read, restricted tokens stay within their registries. */
async function checkReach(request: FastifyRequest, principal: AdminPrincipal, locator: RegistryLocator | undefined): Promise<void> {
  const config = (request.routeOptions.config ?? {}) as AdminRouteConfig;
  if (principal.access === 'read') {
    if (!READ_METHODS.has(request.method))
      throw new DeniedError('this access token is read-only: changes need a token with the admin scope');
    if (config.adminOnly === true) throw new DeniedError('access tokens are listed only for tokens with the admin scope');
  }
  const allowed = principal.registryIds;
  if (allowed === undefined) return;
  const restricted = `this access token is restricted to registries ${allowed.join(', ')}`;
  const reach = config.reach;
  if (reach === RouteReaches.caller || reach === RouteReaches.filtered) return;
  if (reach === undefined || reach === RouteReaches.global)
    throw new DeniedError(`${restricted}: this route concerns every registry and needs a token that is not restricted`);
  const params = request.params as { id?: unknown };
  const id = typeof params.id === 'string' ? params.id : undefined;
  if (id !== undefined) {
    // Unknown ids are refused like other registries' ones: a restricted token learns nothing about what exists beyond its reach.
    const owners = reach === RouteReaches.registry ? [id] : await locator?.registriesOf(reach, id);
    if (owners !== undefined && owners.length > 0 && owners.every((owner) => allowed.includes(owner))) return;
  }
  throw new DeniedError(`${restricted}: this is beyond its reach`);
}

/**
 * Refuses a change of an operator's capacity limit (a registry's quota, an
 * upstream's largest blob) to a token restricted to registries: it
 * administers its registries within the capacity it was given, and could
 * otherwise grant itself unbounded storage or downloads.
 * @throws DeniedError
 */
export function refuseCapacityChange(request: FastifyRequest, field: string): void {
  const allowed = principals.get(request)?.registryIds;
  if (allowed !== undefined)
    throw new DeniedError(
      `this access token is restricted to registries ${allowed.join(', ')}: ${field} is a capacity limit only a token that is not restricted may change`,
      { field },
    );
}
