import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a fake server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** Handles one request of a fake server; may be async. */
export type FakeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A real HTTP server on 127.0.0.1 and a random port, for tests. */
export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Replaces the request handler. */
  handle(handler: FakeHandler): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts a fake server playing a registry, a token service or a CDN.
 * Unhandled requests answer 500 so a wrong path fails loudly.
 */
export async function startFakeHttpServer(handler?: FakeHandler): Promise<FakeHttpServer> {
  let current: FakeHandler =
    handler ??
    ((_req, res) => {
      res.statusCode = 500;
      res.end('no handler');
    });
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    Promise.resolve(current(req, res)).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON body with the given status and headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}
