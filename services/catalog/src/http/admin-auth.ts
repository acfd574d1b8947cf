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
 * An `onRequest` hook that admits `Authorization: Bearer <token>` where the
 * token is the bootstrap admin token from config (compared in constant time)
 * or an active access token with the `admin` scope. No or a wrong token is a
 * 401 UNAUTHORIZED, a valid token without the scope a 403 DENIED, both
 * through the admin error handler; the token is never logged (pino redacts
 * the header).
 */
export function adminAuth(adminToken: string, accessTokens?: AdminTokenVerifier): onRequestAsyncHookHandler {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    if (match === null) throw new UnauthorizedError('an admin token is required (Authorization: Bearer <token>)');
    const presented = match[1] as string;
    if (safeEqual(presented, adminToken)) return;
    if (accessTokens !== undefined && looksLikeAccessToken(presented)) {
      let token: AccessToken | undefined;
      try {
        token = await accessTokens.verify(presented);
      } catch (err) {
        // A store failure is a 500, not a wrong token.
        if (!hasCode(err, ErrorCodes.unauthorized)) throw err;
      }
      if (token !== undefined) {
        if (token.scopes.includes(AccessTokenScopes.admin)) return;
        throw new DeniedError('this access token does not have the admin scope');
      }
    }
    throw new UnauthorizedError('the admin token is not valid');
  };
}
