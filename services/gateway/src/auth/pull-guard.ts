import { DeniedError, ErrorCodes, hasCode, UnauthorizedError } from '@vreg/contracts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { CatalogClient } from '../ports/catalog-client.ts';
import { type AccessTokenLogin, basicCredentials } from './access-token-login.ts';
import { type BearerChallenge, bearerChallenge } from './challenge.ts';
import { type Principal, PULL, tokenCanRead } from './grant-policy.ts';
import { ANONYMOUS_SUBJECT, grants, type RegistryTokenClaims, type RegistryTokens } from './registry-tokens.ts';
import { repositoryName } from './repository-scope.ts';
import { RegistryTokenRefusedError } from './token-refused-error.ts';

/** Path of the token endpoint under the gateway's external URL. */
export const TOKEN_PATH = '/v2/token';

const HOST_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export interface PullGuardDeps {
  tokens: RegistryTokens;
  catalog: CatalogClient;
  /** Checks access tokens presented as Basic passwords on a pull itself. */
  login: AccessTokenLogin;
  /** `VREG_EXTERNAL_URL` without a trailing slash; unset: the scheme and Host of each request. */
  externalUrl?: string;
}

/** The Bearer token of a request, or undefined when it carries none (other schemes are ignored). */
export function bearerTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match === null ? undefined : (match[1] as string);
}

/**
 * Access control on `/v2`: the version check `/v2/` (a `preHandler`) needs
 * any valid registry token, a pull needs one granting `pull` on the
 * repository unless the registry is public. Both also take an access token
 * as the password of a Basic header, checked on every request: a runtime
 * given a static header (containerd's hosts.toml) never does the token
 * dance, and a revoked token stops working at once. A refusal is 401 with the token
 * spec's challenge (so clients know where to log in), or 403 DENIED when an
 * authenticated client's token does not cover the repository.
 *
 * A pull of a registry that does not exist passes through (the route
 * answers NAME_UNKNOWN), and malformed paths are refused before the guard
 * is asked, so errors read the same with or without a token.
 */
export class PullGuard {
  readonly #deps: PullGuardDeps;

  constructor(deps: PullGuardDeps) {
    this.#deps = deps;
  }

  /** `GET /v2/`: 200 only with a valid registry token, so `docker login` learns where to get one. */
  readonly ping: preHandlerAsyncHookHandler = async (request, reply) => {
    const basic = basicCredentials(request);
    if (basic !== undefined) {
      await this.#basicPrincipal(request, reply, basic, undefined);
      return;
    }
    const presented = bearerTokenOf(request);
    if (presented === undefined) this.#refuse(request, reply, {}, 'authentication required');
    await this.#verify(request, reply, presented, undefined);
  };

  /**
   * A pull of `image` from registry `registryId`, by either route: the
   * prefixed path names the registry, the root path was routed to it by
   * mirror host. Either way the token must grant `pull` on the registry's
   * own name for the image (`virtual_registries/containers/<id>/<image>`),
   * so a token limited to one registry reaches it at the root only while
   * that registry mirrors the host asked for.
   */
  async authorizePull(request: FastifyRequest, reply: FastifyReply, pull: { registryId: string; image: string }): Promise<void> {
    let visibility: string | undefined;
    try {
      visibility = (await this.#deps.catalog.resolveRegistry(pull.registryId)).visibility;
    } catch (err) {
      if (hasCode(err, ErrorCodes.nameUnknown)) return; // the route answers NAME_UNKNOWN
      throw err;
    }
    const name = repositoryName(pull.registryId, pull.image);
    const scope = `repository:${name}:${PULL}`;
    const basic = basicCredentials(request);
    if (basic !== undefined) {
      const principal = await this.#basicPrincipal(request, reply, basic, scope);
      if (visibility === 'public' || tokenCanRead(principal, pull.registryId)) return;
      throw new DeniedError('requested access to the resource is denied', { repository: name });
    }
    const presented = bearerTokenOf(request);
    const claims = presented === undefined ? undefined : await this.#verify(request, reply, presented, scope);
    if (visibility === 'public') return;
    if (claims === undefined) this.#refuse(request, reply, { scope }, 'authentication required');
    if (grants(claims, name, PULL)) return;
    // An anonymous token is a login prompt, not a verdict: answer 401 so the client asks for credentials.
    if (claims.sub === ANONYMOUS_SUBJECT) this.#refuse(request, reply, { scope, error: 'insufficient_scope' }, 'authentication required');
    throw new DeniedError('requested access to the resource is denied', { repository: name });
  }

  /** The holder of the access token in a Basic header; a wrong one is 401 with the Bearer challenge, so the client can still log in. */
  async #basicPrincipal(
    request: FastifyRequest,
    reply: FastifyReply,
    basic: Exclude<ReturnType<typeof basicCredentials>, undefined>,
    scope: string | undefined,
  ): Promise<Principal> {
    const challenge = scope === undefined ? {} : { scope };
    if (basic === 'malformed') {
      this.#deps.login.malformed(request);
      this.#refuse(request, reply, challenge, 'credentials must be HTTP Basic: any username and an access token as the password');
    }
    try {
      return await this.#deps.login.authenticate(request, basic);
    } catch (err) {
      if (hasCode(err, ErrorCodes.unauthorized))
        this.#refuse(request, reply, { ...challenge, error: 'invalid_token' }, (err as Error).message);
      throw err;
    }
  }

  async #verify(request: FastifyRequest, reply: FastifyReply, presented: string, scope: string | undefined): Promise<RegistryTokenClaims> {
    try {
      return await this.#deps.tokens.verify(presented);
    } catch (err) {
      // The client learns only that the token is not valid; which check failed is for the operator (never the token itself).
      if (err instanceof RegistryTokenRefusedError) request.log.info({ reason: err.reason }, 'registry token refused');
      reply.header(
        'WWW-Authenticate',
        bearerChallenge({ ...this.#realm(request), ...(scope === undefined ? {} : { scope }), error: 'invalid_token' }),
      );
      throw err;
    }
  }

  #refuse(request: FastifyRequest, reply: FastifyReply, extra: Partial<BearerChallenge>, message: string): never {
    reply.header('WWW-Authenticate', bearerChallenge({ ...this.#realm(request), ...extra }));
    throw new UnauthorizedError(message);
  }

  #realm(request: FastifyRequest): { realm: string; service: string } {
    const base = this.#deps.externalUrl ?? `${request.protocol}://${HOST_RE.test(request.host ?? '') ? request.host : 'localhost'}`;
    return { realm: `${base}${TOKEN_PATH}`, service: this.#deps.tokens.service };
  }
}
