import { randomBytes } from 'node:crypto';
import {
  ACCESS_TOKEN_PREFIX,
  type AccessTokenScope,
  DeniedError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '@vreg/contracts';
import { hashToken, safeEqual } from '@vreg/secrets';
import type { AccessTokenRepository } from '../ports/access-token-repository.ts';
import type { RegistryRepository } from '../ports/registry-repository.ts';
import {
  ACCESS_TOKEN_VISIBLE_PREFIX,
  type AccessToken,
  type AccessTokenFilter,
  accessTokenState,
  grantBeyondReach,
  type TokenGrantor,
} from './access-token.ts';
import type { Page, PageRequest } from './page.ts';

/** Random bytes behind a token: 256 bits, base64url-encoded after the prefix. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = new RegExp(`^${ACCESS_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);

/** What an administrator asks for. */
export interface AccessTokenInput {
  name: string;
  scopes: readonly AccessTokenScope[];
  /** Restrict the token to these registries; absent = every registry. */
  registryIds?: readonly string[];
  /** When it stops working; must be in the future. */
  expiresAt?: Date;
}

/** Notes successful uses (batched by `LastUsedRecorder`). */
export interface UsageRecorder {
  touch(id: string, at: Date): void;
}

/** A token just created: the only moment its secret exists outside the client. */
export interface CreatedAccessToken {
  token: AccessToken;
  /** The secret, to show once. */
  secret: string;
}

/** True when `value` has the shape of an access token (cheap check before any lookup). */
export function looksLikeAccessToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Access tokens: create (the secret is returned once and stored only as its
 * sha256), list, revoke, and verify a presented token.
 */
export class AccessTokens {
  readonly #tokens: AccessTokenRepository;
  readonly #registries: RegistryRepository;
  readonly #usage: UsageRecorder;
  readonly #now: () => Date;

  constructor(deps: { tokens: AccessTokenRepository; registries: RegistryRepository; usage: UsageRecorder; now?: () => Date }) {
    this.#tokens = deps.tokens;
    this.#registries = deps.registries;
    this.#usage = deps.usage;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Creates a token. `grantor` is the access token asking (absent for the
   * bootstrap admin token): the new one may not reach further than it
   * (`grantBeyondReach`).
   * @throws ValidationError for a past expiry, no scope, duplicate or unknown registries.
   * @throws DeniedError when the grantor may not grant that much.
   */
  async create(input: AccessTokenInput, grantor?: TokenGrantor): Promise<CreatedAccessToken> {
    if (grantor !== undefined) {
      const beyond = grantBeyondReach(grantor, input);
      if (beyond !== undefined) throw new DeniedError(beyond);
    }
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw new ValidationError('an access token needs at least one scope', { field: 'scopes' });
    if (input.expiresAt !== undefined && input.expiresAt.getTime() <= this.#now().getTime()) {
      throw new ValidationError('expires_at must be in the future', { field: 'expires_at' });
    }
    let registryIds: string[] | undefined;
    if (input.registryIds !== undefined) {
      registryIds = [...new Set(input.registryIds)];
      if (registryIds.length === 0)
        throw new ValidationError('registry_ids must list at least one registry, or be left out for every registry', {
          field: 'registry_ids',
        });
      const unknown: string[] = [];
      for (const id of registryIds) if ((await this.#registries.get(id)) === undefined) unknown.push(id);
      if (unknown.length > 0) throw new ValidationError(`no such registry: ${unknown.join(', ')}`, { field: 'registry_ids', unknown });
    }
    const secret = `${ACCESS_TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
    const token = await this.#tokens.create({
      name: input.name,
      tokenDigest: hashToken(secret),
      tokenPrefix: secret.slice(0, ACCESS_TOKEN_VISIBLE_PREFIX),
      scopes,
      ...(registryIds === undefined ? {} : { registryIds }),
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
    });
    return { token, secret };
  }

  /** One page of the tokens `filter` matches (filtered in the query). */
  list(page: PageRequest, filter: AccessTokenFilter = {}): Promise<Page<AccessToken>> {
    return this.#tokens.list(page, filter);
  }

  /** @throws NotFoundError */
  async get(id: string): Promise<AccessToken> {
    const token = await this.#tokens.get(id);
    if (token === undefined) throw new NotFoundError('access token not found', { accessTokenId: id });
    return token;
  }

  /** Revokes the token for good; repeating it is harmless. @throws NotFoundError */
  async revoke(id: string): Promise<AccessToken> {
    const token = await this.#tokens.revoke(id, this.#now());
    if (token === undefined) throw new NotFoundError('access token not found', { accessTokenId: id });
    return token;
  }

  /**
   * The token `presented` stands for, when it is active. Unknown, malformed,
   * revoked and expired tokens all fail alike, so a caller learns nothing
   * about which. Records the use (batched).
   * @throws UnauthorizedError
   */
  async verify(presented: string): Promise<AccessToken> {
    const refused = new UnauthorizedError('the access token is not valid');
    if (!looksLikeAccessToken(presented)) throw refused;
    const digest = hashToken(presented);
    const token = await this.#tokens.findByDigest(digest);
    // The lookup is by a hash the caller cannot steer; the comparison is constant-time anyway.
    if (token === undefined || !safeEqual(token.tokenDigest, digest)) throw refused;
    const now = this.#now();
    if (accessTokenState(token, now) !== 'active') throw refused;
    this.#usage.touch(token.id, now);
    return token;
  }
}
