import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A plain HTTP proxy in front of a real upstream registry that slows
 * response bodies down to `bytesPerSecond` and counts requests per
 * method + path, so a test can hold a fill open long enough to break it and
 * count upstream downloads.
 */
export class ThrottledProxy {
  readonly counts = new Map<string, number>();
  #server: Server | undefined;

  constructor(
    readonly target: string,
    readonly bytesPerSecond: number,
  ) {}

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.#server = createServer((req, res) => {
      const key = `${req.method} ${req.url?.split('?')[0]}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          // Each chunk waits as long as it takes at the target rate.
          up.on('data', (chunk: Buffer) => {
            up.pause();
            if (res.destroyed) return void up.destroy();
            res.write(chunk);
            setTimeout(() => up.resume(), (chunk.length / this.bytesPerSecond) * 1000);
          });
          up.on('end', () => res.end());
          up.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      res.on('close', () => upstream.destroy());
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  count(method: string, pathSuffix: string): number {
    let n = 0;
    for (const [key, c] of this.counts) if (key.startsWith(`${method} `) && key.endsWith(pathSuffix)) n += c;
    return n;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
