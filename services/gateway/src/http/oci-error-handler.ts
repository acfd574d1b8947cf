import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toOciError } from './oci-errors.ts';

const FASTIFY_CLIENT_CODES: Readonly<Record<number, string>> = {
  400: 'NAME_INVALID',
  404: 'NAME_UNKNOWN',
  405: 'UNSUPPORTED',
  413: 'SIZE_INVALID',
  414: 'NAME_INVALID',
  415: 'UNSUPPORTED',
  431: 'NAME_INVALID',
};

/**
 * The one place errors become responses on `/v2`: `{ errors: [{ code,
 * message, detail }] }`. 5xx logged at error, 4xx at info. Fastify's own
 * client errors keep their status with an OCI code.
 */
export function ociErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const fastifyStatus =
    typeof err.statusCode === 'number' &&
    err.statusCode >= 400 &&
    err.statusCode < 500 &&
    typeof (err as { code?: unknown }).code === 'string' &&
    // fastify's own, and a body cut off by a client that left (or was timed out) before sending it all.
    (err.code.startsWith('FST_') || err.code === 'ECONNRESET')
      ? err.statusCode
      : undefined;
  const mapped =
    fastifyStatus !== undefined
      ? { status: fastifyStatus, body: { errors: [{ code: FASTIFY_CLIENT_CODES[fastifyStatus] ?? 'UNSUPPORTED', message: err.message }] } }
      : toOciError(err);
  if (mapped.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: mapped.body.errors[0]?.code }, 'request refused');
  if (reply.sent || reply.raw.headersSent) {
    // Bytes already went out (a fill failed mid-stream): the only honest signal left is a cut connection.
    reply.raw.destroy();
    return;
  }
  if ('retryAfterSeconds' in mapped && mapped.retryAfterSeconds !== undefined)
    reply.header('Retry-After', String(Math.ceil(mapped.retryAfterSeconds)));
  const size = (err as { detail?: { size?: unknown } }).detail?.size;
  if (mapped.status === 416 && typeof size === 'number') reply.header('Content-Range', `bytes */${size}`);
  reply.removeHeader('Docker-Content-Digest');
  reply.removeHeader('Content-Length');
  void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
}
