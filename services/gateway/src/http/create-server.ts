import fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from '@vreg/logging';

/**
 * The HTTP server settings every vreg front door shares: long-lived streams
 * (no request timeout, a blob may take minutes), bounded URLs, headers and
 * bodies (pulls carry none), and 503 while closing.
 */
export function createServer(logger: Logger, options: { trustProxy?: string } = {}): FastifyInstance {
  return fastify({
    loggerInstance: logger,
    // Only listed proxies may set the client address (X-Forwarded-For, per-address
    // throttling) and the scheme and host of the token realm (X-Forwarded-Proto/-Host).
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    // One line per request comes from @vreg/telemetry's requestTelemetry, with trace ids, cache result and bytes.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1 << 20,
    return503OnClosing: true,
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    http: { maxHeaderSize: 16 * 1024 },
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 256 },
  }) as unknown as FastifyInstance;
}
