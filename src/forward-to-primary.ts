import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { ErrorCodes } from '@vreg/contracts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

export interface ForwardToPrimaryOptions {
  /** The primary's private socket (a Unix socket in a directory only this user can enter). */
  socketPath: string;
  /** Path prefixes forwarded, e.g. `/api` and `/console`: each prefix itself and everything under it. */
  prefixes: readonly string[];
}

/** Hop-by-hop headers: they describe one connection and are never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * In a worker process of embedded mode: the routes the primary serves (the
 * admin API and the console, which need the catalog's database) are passed
 * to it over its private socket, bodies streamed both ways. The client's
 * address, scheme and host as this worker determined them (its
 * VREG_TRUST_PROXY) replace any X-Forwarded-* the client sent; the primary
 * trusts them because only its workers can reach the socket.
 */
export const forwardToPrimary: FastifyPluginAsync<ForwardToPrimaryOptions> = async (app, options) => {
  const agent = new Agent({ keepAlive: true });
  app.addHook('onClose', async () => agent.destroy());
  // Bodies stay unread: they are streamed to the primary as they come.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  const handler = (request: FastifyRequest, reply: FastifyReply): void => forward(request, reply, options.socketPath, agent);
  for (const prefix of options.prefixes) {
    for (const url of [prefix, `${prefix}/*`]) app.all(url, async (request, reply) => handler(request, reply));
  }
};

function forward(request: FastifyRequest, reply: FastifyReply, socketPath: string, agent: Agent): void {
  reply.hijack();
  const res = reply.raw;
  const headers: OutgoingHttpHeaders = withoutHopByHop(request.headers);
  headers['x-forwarded-for'] = request.ip;
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-host'] = request.host;
  const upstream = httpRequest({ socketPath, agent, method: request.method, path: request.raw.url, headers });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
    pipeline(answer, res, (err) => {
      if (err) res.destroy();
    });
  });
  upstream.on('error', (err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    request.log.error({ err }, 'the primary process did not answer a forwarded request');
    const body = JSON.stringify({
      errors: [{ code: ErrorCodes.catalogUnavailable, message: 'the catalog is not answering right now; retry' }],
    });
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  // A client that leaves mid-request takes the forwarded request with it.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  pipeline(request.raw, upstream, () => undefined);
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}
