import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes } from '@vreg/contracts';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';

/**
 * fastify's `frameworkErrors` for a server that carries the admin API:
 * requests refused before routing (malformed percent-encoding, an overlong
 * URL segment) get the admin API's `{ errors: [{ code, message, detail }] }`
 * body and a 4xx, not fastify's own shape.
 */
export function adminFrameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid: malformed percent-encoding' : 'the URL is not valid';
  request.log.info({ status, reason: error.code }, 'admin request refused before routing');
  void reply.code(status).send({ errors: [{ code: ErrorCodes.validationFailed, message, detail: { reason: error.code } }] });
}

/**
 * Root not-found and error handlers for a server whose API is the admin
 * API: a path outside `/api/v1` (`/api/v1/..` resolved by a client) or a
 * body error there answers in the same `{ errors: [...] }` shape.
 */
export function adminRootHandlers<L extends FastifyBaseLogger>(
  server: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
): void {
  server.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ errors: [{ code: ErrorCodes.notFound, message: 'route not found', detail: { method: request.method } }] }),
  );
  server.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ errors: [{ code: ErrorCodes.internal, message: 'internal error', detail: null }] });
    }
    return reply.code(status).send({
      errors: [
        {
          code: status === 404 ? ErrorCodes.notFound : ErrorCodes.validationFailed,
          message: error.message,
          detail: { reason: error.code ?? error.name },
        },
      ],
    });
  });
}
