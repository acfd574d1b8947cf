import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A plain pass-through HTTP proxy in front of an upstream registry that
 * counts requests per method and path, so the bench can tell how many times
 * a registry under test went upstream for each blob. No throttling, no
 * buffering: bodies are piped both ways with backpressure.
 */
export class CountingProxy {
  readonly #counts = new Map<string, number>();
  readonly #target: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  #server: Server | undefined;

  constructor(target: string) {
    this.#target = new URL(target);
  }

  /** Listens on a free port of 127.0.0.1; resolves the proxy's base URL. */
  async start(): Promise<string> {
    this.#server = createServer((req, res) => this.#forward(req, res));
    this.#server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Requests seen with this method whose path (without query) ends with `pathSuffix`. */
  count(method: string, pathSuffix: string): number {
    let n = 0;
    for (const [key, c] of this.#counts) if (key.startsWith(`${method} `) && key.endsWith(pathSuffix)) n += c;
    return n;
  }

  /** Every request seen, `METHOD /path` → count. */
  snapshot(): Map<string, number> {
    return new Map(this.#counts);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
    this.#agent.destroy();
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    const upstream = request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: this.#target.host },
        agent: this.#agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
