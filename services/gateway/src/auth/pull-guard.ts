import { DeniedError, ErrorCodes, hasCode, UnauthorizedError } from '@vreg/contracts';
import { assertRegistryId, parsePullPath } from '@vreg/oci';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { CatalogClient } from '../ports/catalog-client.ts';
import { type BearerChallenge, bearerChallenge } from './challenge.ts';
import { PULL } from './grant-policy.ts';
import { ANONYMOUS_SUBJECT, grants, type RegistryTokenClaims, type RegistryTokens } from './registry-tokens.ts';
import { repositoryName } from './repository-scope.ts';
import { RegistryTokenRefusedError } from './token-refused-error.ts';

/** Path of the token endpoint under the gateway's external URL. */
export const TOKEN_PATH = '/v2/token';

const HOST_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export interface PullGuardDeps {
  tokens: RegistryTokens;
  catalog: CatalogClient;
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
 * Access control on `/v2`, as `preHandler` hooks: the version check `/v2/`
 * needs any valid registry token, a pull needs one granting `pull` on the
 * repository unless the registry is public. A refusal is 401 with the token
 * spec's challenge (so clients know where to log in), or 403 DENIED when an
 * authenticated client's token does not cover the repository.
 *
 * Requests the route would refuse anyway (a malformed name, an unknown
 * registry) pass through, so errors read the same with or without a token.
 */
export class PullGuard {
  readonly #deps: PullGuardDeps;

  constructor(deps: PullGuardDeps) {
    this.#deps = deps;
  }

  /** `GET /v2/`: 200 only with a valid registry token, so `docker login` learns where to get one. */
  readonly ping: preHandlerAsyncHookHandler = async (request, reply) => {
    const presented = bearerTokenOf(request);
    if (presented === undefined) this.#refuse(request, reply, {}, 'authentication required');
    await this.#verify(request, reply, presented, undefined);
  };

  /** `GET|HEAD /v2/virtual_registries/containers/<id>/<image>/(manifests|blobs)/<ref>`. */
  readonly pull: preHandlerAsyncHookHandler = async (request, reply) => {
    const params = request.params as { registryId?: string; '*'?: string };
    let image: string;
    try {
      assertRegistryId(params.registryId ?? '');
      image = parsePullPath(params['*'] ?? '').image;
    } catch {
      return; // the route answers NAME_INVALID / DIGEST_INVALID / UNSUPPORTED itself
    }
    const registryId = params.registryId as string;
    let visibility: string | undefined;
    try {
      visibility = (await this.#deps.catalog.resolveRegistry(registryId)).visibility;
    } catch (err) {
      if (hasCode(err, ErrorCodes.nameUnknown)) return; // the route answers NAME_UNKNOWN
      throw err;
    }
    const name = repositoryName(registryId, image);
    const scope = `repository:${name}:${PULL}`;
    const presented = bearerTokenOf(request);
    const claims = presented === undefined ? undefined : await this.#verify(request, reply, presented, scope);
    if (visibility === 'public') return;
    if (claims === undefined) this.#refuse(request, reply, { scope }, 'authentication required');
    if (grants(claims, name, PULL)) return;
    // An anonymous token is a login prompt, not a verdict: answer 401 so the client asks for credentials.
    if (claims.sub === ANONYMOUS_SUBJECT) this.#refuse(request, reply, { scope, error: 'insufficient_scope' }, 'authentication required');
    throw new DeniedError('requested access to the resource is denied', { repository: name });
  };

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
