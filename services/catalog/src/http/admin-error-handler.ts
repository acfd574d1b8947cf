import { AppError, type ErrorCode, ErrorCodes, hasCode, type TooManyRequestsError } from '@vreg/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** HTTP status of each code the admin API answers with; anything else is a 500. */
const statusOf: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.validationFailed]: 400,
  [ErrorCodes.unauthorized]: 401,
  [ErrorCodes.denied]: 403,
  [ErrorCodes.notFound]: 404,
  [ErrorCodes.nameUnknown]: 404,
  [ErrorCodes.conflict]: 409,
  [ErrorCodes.tooManyRequests]: 429,
  [ErrorCodes.fetcherUnavailable]: 503,
  [ErrorCodes.fillLeaseUnavailable]: 503,
};

/** The realm in `WWW-Authenticate` of a 401. */
export const ADMIN_REALM = 'vreg-admin';

interface ErrorReply {
  status: number;
  code: string;
  message: string;
  detail: unknown;
}

function classify(error: FastifyError | Error): ErrorReply {
  if (error instanceof AppError || Object.values(ErrorCodes).some((c) => hasCode(error, c))) {
    const app = error as AppError;
    const status = statusOf[app.code];
    if (status !== undefined) return { status, code: app.code, message: app.message, detail: app.detail ?? null };
  }
  // fastify's own 4xx: malformed JSON, empty body with a JSON content type,
  // unsupported media type, body too large. Bad input, never a 500.
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      status,
      code: status === 404 ? ErrorCodes.notFound : ErrorCodes.validationFailed,
      message: error.message,
      detail: { reason: (error as FastifyError).code ?? error.name },
    };
  }
  // The catalog's database is unreachable (the MongoDB driver's connectivity errors, matched by
  // name so this layer imports no driver): an outage the caller may retry, not a bug.
  if (DATABASE_UNREACHABLE.test(error.name)) {
    return { status: 503, code: ErrorCodes.catalogUnavailable, message: 'the catalog database is unavailable; retry later', detail: null };
  }
  return { status: 500, code: ErrorCodes.internal, message: 'internal error', detail: null };
}

const DATABASE_UNREACHABLE = /^Mongo(ServerSelection|Network|NetworkTimeout|NotConnected|TopologyClosed)Error$/;

/**
 * The admin API's one error handler: `{ errors: [{ code, message, detail }] }`
 * with 400 VALIDATION_FAILED, 401 UNAUTHORIZED, 403 DENIED, 404 NOT_FOUND, 409 CONFLICT,
 * 429 TOOMANYREQUESTS (with Retry-After),
 * 503 FETCHER_UNAVAILABLE, 503 CATALOG_UNAVAILABLE (the database is unreachable), and 500 INTERNAL (whose message never leaks the cause). 5xx logged at
 * error, 4xx at info.
 */
export async function adminErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const answer = classify(error);
  if (answer.status >= 500) request.log.error({ err: error }, 'admin request failed');
  else request.log.info({ code: answer.code, status: answer.status }, 'admin request refused');
  if (answer.status === 401) reply.header('www-authenticate', `Bearer realm="${ADMIN_REALM}"`);
  const retryAfter = (error as Partial<TooManyRequestsError>).retryAfterSeconds;
  if (answer.status === 429 && retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  await reply.status(answer.status).send({ errors: [{ code: answer.code, message: answer.message, detail: answer.detail }] });
}

/** 404 for a path under the admin prefix that no route serves. */
export async function adminNotFoundHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.status(404).send({ errors: [{ code: ErrorCodes.notFound, message: 'route not found', detail: { method: request.method } }] });
}
