import { AppError, ErrorCodes } from '@vreg/contracts';
import { safeEqual } from '@vreg/secrets';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';

/**
 * An `onRequest` hook that admits only `Authorization: Bearer <admin token>`,
 * compared in constant time. Anything else is a 401 UNAUTHORIZED through
 * the admin error handler; the token is never logged (pino redacts the
 * header).
 */
export function adminAuth(adminToken: string): onRequestAsyncHookHandler {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    if (match === null) throw new AppError(ErrorCodes.unauthorized, 'an admin token is required (Authorization: Bearer <token>)');
    if (!safeEqual(match[1] as string, adminToken)) throw new AppError(ErrorCodes.unauthorized, 'the admin token is not valid');
  };
}
