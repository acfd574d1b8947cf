import type { Socket } from 'node:net';
import { ErrorCodes } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** Limits of the front door, each configurable (VREG_MAX_HEADER_BYTES, VREG_MAX_URL_BYTES, VREG_REQUEST_RECEIVE_TIMEOUT_MS, VREG_MAX_CONNECTIONS). */
export interface ServerLimits {
  /** How long a request's headers and body may take to arrive, ms; past it, 408 and the connection closed. Default 60 s. */
  receiveTimeoutMs?: number;
  /** Open connections at most; past it a new one is closed at once. 0 = no cap. Default 10,000. */
  maxConnections?: number;
  /** Request line plus headers, in bytes; past it, 431. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Request target (path and query), in bytes; past it, 414. Default 4 KiB. */
  maxUrlBytes?: number;
  /** Longest route parameter; past it, 414. Default 256; a server carrying the admin API needs its cache entry ids to fit. */
  maxParamLength?: number;
}

/**
 * On every answer under `/v2` (pulls, errors, challenges, the token
 * endpoint, redirects, HEAD): vreg's origin serves what upstreams sent, and
 * the console lives on the same origin, so nothing there may be sniffed
 * into a type a browser runs, or run at all if it were.
 */
export const V2_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
};

const isV2Path = (url: string): boolean => url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?');

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_URL_BYTES = 4 * 1024;
export const DEFAULT_RECEIVE_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/**
 * The HTTP server settings every vreg front door shares: a request must
 * arrive within `receiveTimeoutMs` (headers and body: Node's requestTimeout
 * and headersTimeout, which stop counting once the request is in, so an
 * answer, a blob that takes minutes, is never cut by them; no idle timeout
 * on the socket either, for the same reason), at most `maxConnections` open
 * connections, bounded URLs, headers and bodies (pulls carry none), and 503
 * while closing. Requests refused before
 * any route sees them (a malformed percent-encoding, an overlong URL or
 * header block) get the `{ errors: [{ code, message }] }` body of the API
 * they aimed at, never fastify's own shape.
 */
export function createServer(logger: Logger, options: { trustProxy?: string | true } & ServerLimits = {}): FastifyInstance {
  const maxUrlBytes = options.maxUrlBytes ?? DEFAULT_MAX_URL_BYTES;
  const receiveTimeoutMs = options.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
  const server = fastify({
    loggerInstance: logger,
    // Only listed proxies may set the client address (X-Forwarded-For, per-address
    // throttling) and the scheme and host of the token realm (X-Forwarded-Proto/-Host).
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    // One line per request comes from @vreg/telemetry's requestTelemetry, with trace ids, cache result and bytes.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1 << 20,
    return503OnClosing: true,
    requestTimeout: receiveTimeoutMs,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    http: {
      maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      requestTimeout: receiveTimeoutMs,
      headersTimeout: receiveTimeoutMs,
      // Node looks for late requests this often (its default, 30 s, would let a 1 s bound run to 31 s).
      connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(receiveTimeoutMs / 10))),
    },
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: options.maxParamLength ?? 256 },
    frameworkErrors: refuseBeforeRouting,
    clientErrorHandler: refuseUnparsable,
  }) as unknown as FastifyInstance;
  capConnections(server, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  // First of all hooks, so that every later answer, refusals included, carries them (a blob reply taken over by the route too).
  server.addHook('onRequest', (request, reply, done) => {
    if (isV2Path(request.raw.url ?? '')) reply.headers(V2_SECURITY_HEADERS);
    done();
  });
  // Before routing work and auth: the URL's length alone decides.
  server.addHook('onRequest', async (request, reply) => {
    const length = Buffer.byteLength(request.raw.url ?? '');
    if (length > maxUrlBytes)
      return sendRefusal(request, reply, 414, `request URL of ${length} bytes is longer than the ${maxUrlBytes} allowed`, 'URL_TOO_LONG');
    return undefined;
  });
  // Paths outside every API (`/`, `/v2/..` resolved by a client): the same shapes, not fastify's.
  server.setNotFoundHandler(async (request, reply) => sendRefusal(request, reply, 404, 'no such route', 'NOT_FOUND'));
  // And their bodies (an empty JSON body on a route-less path): each API's plugin has its own handler; this one catches the rest.
  server.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(500)
        .type('application/json; charset=utf-8')
        .send({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] });
    }
    return sendRefusal(request, reply, status, error.message, error.code ?? 'BAD_REQUEST');
  });
  return server;
}

/**
 * Past `max` open connections Node closes each new one as soon as it is
 * accepted (net.Server.maxConnections): a flood of idle or trickling
 * connections cannot take every file descriptor and buffer of the process.
 * Logged at warn, at most once a minute, with how many were closed.
 */
function capConnections(server: FastifyInstance, max: number): void {
  if (max <= 0) return;
  server.server.maxConnections = max;
  let dropped = 0;
  let loggedAt = 0;
  server.server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - loggedAt < 60_000) return;
    loggedAt = now;
    server.log.warn({ maxConnections: max, dropped }, 'connection cap reached: new connections closed');
    dropped = 0;
  });
}

/** fastify's errors raised before a route is found: FST_ERR_BAD_URL (400), FST_ERR_MAX_PARAM_LENGTH (414). */
function refuseBeforeRouting(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the URL is not valid: malformed percent-encoding'
      : status === 414
        ? 'a URL segment is too long'
        : 'the request is not valid';
  void sendRefusal(request, reply, status, message, error.code);
}

function sendRefusal(request: FastifyRequest, reply: FastifyReply, status: number, message: string, reason: string): FastifyReply {
  request.log.info({ status, reason }, 'request refused before routing');
  // The admin API's error shape under /api, the OCI one elsewhere (`/v2`).
  const admin = (request.raw.url ?? '').startsWith('/api/');
  const error = admin
    ? { code: status === 404 ? ErrorCodes.notFound : ErrorCodes.validationFailed, message, detail: { reason } }
    : { code: status === 404 ? 'NAME_UNKNOWN' : status === 414 || status === 400 ? 'NAME_INVALID' : 'UNSUPPORTED', message };
  return reply
    .code(status)
    .headers(V2_SECURITY_HEADERS)
    .type('application/json; charset=utf-8')
    .send({ errors: [error] });
}

/**
 * Node's parser gave up on the request (headers past maxHeaderSize, a
 * malformed request line): no URL to choose a shape by, so one plain body
 * in the shared `{ errors: [...] }` form.
 */
const securityHeaderLines = Object.entries(V2_SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

function refuseUnparsable(this: FastifyInstance, err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'SIZE_INVALID', 'request headers are larger than allowed']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'UNSUPPORTED', 'request timed out']
        : [400, 'UNSUPPORTED', 'malformed HTTP request'];
  this.log.info({ status, reason: err.code }, 'unparsable request refused');
  if (!socket.writable) {
    socket.destroy(err);
    return;
  }
  const body = JSON.stringify({ errors: [{ code, message }] });
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n${securityHeaderLines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
