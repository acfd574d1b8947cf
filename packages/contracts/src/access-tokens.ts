import { z } from 'zod';

/**
 * Access tokens: long-lived secrets an administrator creates for people and
 * machines (`docker login -u anything -p <token>`). The catalog stores only
 * their sha256; the gateway exchanges a presented one for a short-lived JWT.
 */
export const AccessTokenScopes = {
  /** Pull from the virtual registries the token may read. */
  readVirtualRegistry: 'read_virtual_registry',
  /** Use the admin API (`/api/v1`). */
  admin: 'admin',
} as const;
export type AccessTokenScope = (typeof AccessTokenScopes)[keyof typeof AccessTokenScopes];
export const AccessTokenScopeSchema = z.enum([AccessTokenScopes.readVirtualRegistry, AccessTokenScopes.admin]);

/** Prefix of every access token, so secret scanners and people recognise one. */
export const ACCESS_TOKEN_PREFIX = 'vregat_';

/**
 * `vreg.catalog.access_token.verify` request. The presented token is sealed
 * with the shared secrets key (`SecretBox`), so it never crosses the bus in
 * clear and the gateway never sees a stored hash.
 */
export const AccessTokenVerifyRequestSchema = z.object({
  /** `SecretBox.seal(<presented token>)`. */
  sealedToken: z.string().min(1).max(8192),
});
export type AccessTokenVerifyRequest = z.infer<typeof AccessTokenVerifyRequestSchema>;

/**
 * What a valid token may do. A token that is unknown, revoked, expired or
 * malformed gets an UNAUTHORIZED error reply instead (never a reason that
 * tells which).
 */
export const AccessTokenVerifyReplySchema = z.object({
  /** The token's id (not secret). */
  tokenId: z.string().min(1),
  /** The token's name, for logs and the JWT subject. */
  name: z.string(),
  scopes: z.array(AccessTokenScopeSchema),
  /** Registry ids the token is restricted to; absent = every registry. */
  registryIds: z.array(z.string().min(1)).optional(),
  /** ISO-8601 expiry; absent = never. */
  expiresAt: z.string().optional(),
});
export type AccessTokenVerifyReply = z.infer<typeof AccessTokenVerifyReplySchema>;
