import type { AccessTokenScope } from '@vreg/contracts';

/** Longest access token name, in characters. */
export const ACCESS_TOKEN_NAME_MAX = 255;
/** Most registries one token may be restricted to. */
export const ACCESS_TOKEN_REGISTRIES_MAX = 100;
/** Characters of a token kept in clear (`vregat_` + 4) so people can tell their tokens apart. */
export const ACCESS_TOKEN_VISIBLE_PREFIX = 11;

/**
 * An access token as the catalog keeps it: never the token itself, only its
 * sha256 (`tokenDigest`) and a short visible prefix.
 */
export interface AccessToken {
  /** Small positive integer as a string. Not secret. */
  readonly id: string;
  /** What the token is for, 1–255 characters (not unique). */
  readonly name: string;
  /** sha256 hex of the token: the only form the secret is stored in. */
  readonly tokenDigest: string;
  /** The first characters of the token, e.g. `vregat_Ab3x`. */
  readonly tokenPrefix: string;
  /** At least one; no duplicates. */
  readonly scopes: readonly AccessTokenScope[];
  /** Registry ids the token is restricted to; absent = every registry. */
  readonly registryIds?: readonly string[];
  /** When the token stops working; absent = never. */
  readonly expiresAt?: Date;
  /** Last successful use, recorded in batches (may lag by the flush interval). */
  readonly lastUsedAt?: Date;
  /** When it was revoked; a revoked token never works again. */
  readonly revokedAt?: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What the repository stores for a new token; it assigns id and timestamps. */
export interface NewAccessToken {
  name: string;
  tokenDigest: string;
  tokenPrefix: string;
  scopes: readonly AccessTokenScope[];
  registryIds?: readonly string[];
  expiresAt?: Date;
}

/** Which access tokens a list returns. */
export interface AccessTokenFilter {
  /**
   * Only tokens restricted to some of these registries (a non-empty
   * `registryIds` that is a subset of it): what a token restricted to them
   * may see. Unrestricted tokens never match. Absent = every token.
   */
  within?: readonly string[];
}

/** Whether a token works at `now`. */
export type AccessTokenState = 'active' | 'revoked' | 'expired';

export function accessTokenState(token: Pick<AccessToken, 'revokedAt' | 'expiresAt'>, now: Date): AccessTokenState {
  if (token.revokedAt !== undefined) return 'revoked';
  if (token.expiresAt !== undefined && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * An access token asking for a new one (the bootstrap admin token has no
 * such bounds). What it holds bounds what it may grant.
 */
export interface TokenGrantor {
  readonly scopes: readonly AccessTokenScope[];
  /** Absent = every registry. */
  readonly registryIds?: readonly string[];
  /** Absent = never expires. */
  readonly expiresAt?: Date;
}

/**
 * Why `grantor` may not create a token with these scopes, registries and
 * expiry, or undefined when it may. A token never grants more than it holds:
 * - only the `admin` scope creates tokens, and it covers both scopes (an
 *   administrator of a registry can make it public anyway, so granting pulls
 *   of it is within its reach);
 * - a token restricted to registries creates only tokens restricted to some
 *   of them;
 * - a token that expires creates only tokens that expire no later, so a
 *   short-lived credential cannot mint a permanent one.
 */
export function grantBeyondReach(
  grantor: TokenGrantor,
  requested: { registryIds?: readonly string[]; expiresAt?: Date },
): string | undefined {
  if (!grantor.scopes.includes('admin')) return 'only a token with the admin scope creates access tokens';
  if (grantor.registryIds !== undefined) {
    const mine = grantor.registryIds;
    if (requested.registryIds === undefined || requested.registryIds.length === 0)
      return `this token is restricted to registries ${mine.join(', ')}: the new token must be restricted too (registry_ids, some of ${mine.join(', ')})`;
    const outside = requested.registryIds.filter((id) => !mine.includes(id));
    if (outside.length > 0)
      return `this token is restricted to registries ${mine.join(', ')}: it cannot grant registries ${outside.join(', ')}`;
  }
  if (grantor.expiresAt !== undefined) {
    const limit = grantor.expiresAt.toISOString();
    if (requested.expiresAt === undefined) return `this token expires at ${limit}: the new token must expire too, no later (expires_at)`;
    if (requested.expiresAt.getTime() > grantor.expiresAt.getTime())
      return `this token expires at ${limit}: the new token cannot expire later`;
  }
  return undefined;
}

/** True when the token may read registry `registryId` (its scope and its registry restriction allow it). */
export function canReadRegistry(token: Pick<AccessToken, 'scopes' | 'registryIds'>, registryId: string): boolean {
  if (!token.scopes.includes('read_virtual_registry')) return false;
  return token.registryIds === undefined || token.registryIds.includes(registryId);
}
