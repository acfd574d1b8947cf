import type { EventBus, Subscription } from '@vreg/bus';
import {
  type AccessTokenVerifyReply,
  type AccessTokenVerifyRequest,
  AccessTokenVerifyRequestSchema,
  Subjects,
  UnauthorizedError,
} from '@vreg/contracts';
import type { AccessToken } from '../domain/access-token.ts';
import type { AccessTokens } from '../domain/access-tokens.ts';

/** Opens the sealed token (`SecretBox` from @vreg/secrets). */
export interface TokenOpener {
  /** @throws when the value was not sealed with this key or was altered. */
  open(sealed: string): string;
}

/** What the data plane learns about a valid token: never its digest. */
export function toAccessTokenVerifyReply(token: AccessToken): AccessTokenVerifyReply {
  return {
    tokenId: token.id,
    name: token.name,
    scopes: [...token.scopes],
    ...(token.registryIds === undefined ? {} : { registryIds: [...token.registryIds] }),
    ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt.toISOString() }),
  };
}

/**
 * Answers `vreg.catalog.access_token.verify` for the gateway's token
 * endpoint: opens the sealed token, checks it against the stored digests and
 * replies what it may do, or UNAUTHORIZED. Catalog replicas share the subject
 * as a queue group.
 */
export class AccessTokenVerifyResponder {
  readonly #tokens: AccessTokens;
  readonly #opener: TokenOpener;

  constructor(deps: { tokens: AccessTokens; opener: TokenOpener }) {
    this.#tokens = deps.tokens;
    this.#opener = deps.opener;
  }

  start(bus: EventBus): Promise<Subscription> {
    return bus.serve(Subjects.accessTokenVerify, AccessTokenVerifyRequestSchema, this.handle);
  }

  /** @throws UnauthorizedError (an UNAUTHORIZED reply) for any token that does not work. */
  readonly handle = async (request: AccessTokenVerifyRequest): Promise<AccessTokenVerifyReply> => {
    let presented: string;
    try {
      presented = this.#opener.open(request.sealedToken);
    } catch {
      throw new UnauthorizedError('the access token is not valid');
    }
    return toAccessTokenVerifyReply(await this.#tokens.verify(presented));
  };
}
