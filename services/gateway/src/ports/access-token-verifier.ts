import type { AccessTokenVerifyReply } from '@vreg/contracts';

/** Checks access tokens presented to the token endpoint; the gateway never sees how they are stored. */
export interface AccessTokenVerifier {
  /**
   * What the token may do.
   * @throws UNAUTHORIZED when it is unknown, revoked, expired or malformed; CATALOG_UNAVAILABLE when nobody could tell.
   */
  verify(presented: string): Promise<AccessTokenVerifyReply>;
}
