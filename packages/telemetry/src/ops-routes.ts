import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { type Readiness, readinessStatusCode } from './readiness.ts';

export interface OpsRoutesOptions {
  /** Renders the Prometheus text exposition (`Telemetry.renderMetrics`). */
  renderMetrics(): Promise<string>;
  readiness: Readiness;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `GET /healthz` (the process is alive: always 200 while it serves),
 * `GET /readyz` (dependencies, 503 when unready or stopping) and
 * `GET /metrics` (Prometheus text) on a fastify server, outside `/v2` and
 * `/api/v1`. Not traced (see OPS_PATHS).
 */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, options) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await options.readiness.report();
    return reply.code(readinessStatusCode(report)).send(report);
  });
  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_TEXT).send(await options.renderMetrics()));
};

/**
 * The same three endpoints for a plain `node:http` server (the fetcher has
 * no other HTTP surface). Anything else is 404.
 */
export function opsRequestListener(options: OpsRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      void options.readiness.report().then(
        (report) => json(res, readinessStatusCode(report), report),
        () => json(res, 503, { status: 'unready' }),
      );
      return;
    }
    if (path === '/metrics') {
      void options.renderMetrics().then(
        (text) => res.writeHead(200, { 'content-type': PROMETHEUS_TEXT }).end(text),
        () => json(res, 500, { error: 'metrics unavailable' }),
      );
      return;
    }
    json(res, 404, { error: 'not found' });
  };
}
