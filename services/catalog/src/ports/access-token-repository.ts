import type { AccessToken, AccessTokenFilter, NewAccessToken } from '../domain/access-token.ts';
import type { Page, PageRequest } from '../domain/page.ts';

/** Stores access tokens by id, findable by the sha256 of the secret (unique). */
export interface AccessTokenRepository {
  /**
   * Stores a token with the next free id and `createdAt = updatedAt = now`.
   * @throws ConflictError when another token has the same digest (a 256-bit collision: in practice never).
   */
  create(input: NewAccessToken): Promise<AccessToken>;

  /** The token with this id, or undefined (also for ids that are not positive integers). */
  get(id: string): Promise<AccessToken | undefined>;

  /** The token whose secret hashes to `tokenDigest` (sha256 hex), revoked or not, or undefined. */
  findByDigest(tokenDigest: string): Promise<AccessToken | undefined>;

  /** One page of the tokens `filter` matches, ordered by id, and their total count (filtered in the query, before paging). */
  list(page: PageRequest, filter?: AccessTokenFilter): Promise<Page<AccessToken>>;

  /**
   * Sets `revokedAt` (and `updatedAt`) unless already revoked, keeping the
   * first revocation time. Resolves to the token, or undefined when there is none.
   */
  revoke(id: string, at: Date): Promise<AccessToken | undefined>;

  /** Moves `lastUsedAt` forward to `at` (never back); false when there is no such token. Does not touch `updatedAt`. */
  recordLastUsed(id: string, at: Date): Promise<boolean>;
}
