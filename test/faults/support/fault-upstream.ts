import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the upstream misbehaves on a blob GET. */
export type UpstreamFault =
  /** Sends part of the body, then resets the connection. */
  | 'dies-mid-stream'
  /** Sends part of the body, then nothing at all while keeping the connection open (slowloris). */
  | 'stalls'
  /** Declares a Content-Length larger than the body, sends the body and ends the connection. */
  | 'lies-about-length'
  /** Sends the declared number of bytes, but not the blob's (one byte flipped in the middle). */
  | 'wrong-bytes';

export interface FakeBlob {
  digest: string;
  bytes: Buffer;
}

/** `count` random blobs of `size` bytes each, with their digests. */
export function randomBlobs(count: number, size: number): FakeBlob[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(size);
    return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
  });
}

/**
 * A minimal OCI upstream (ping, blob GET/HEAD) serving blobs from memory at
 * a bounded rate, so a fill lasts long enough to break, and misbehaving on
 * demand: a fault armed for a digest hits its next `times` GETs, after which
 * the blob is served correctly again (the upstream "comes back").
 */
export class FaultUpstream {
  readonly #blobs = new Map<string, Buffer>();
  readonly #faults = new Map<string, { fault: UpstreamFault; times: number }>();
  readonly #gets = new Map<string, number>();
  readonly #open = new Set<ServerResponse>();
  #server: Server | undefined;

  constructor(readonly bytesPerSecond: number) {}

  add(...blobs: FakeBlob[]): void {
    for (const b of blobs) this.#blobs.set(b.digest, b.bytes);
  }

  /** The next `times` GETs of `digest` misbehave as `fault`. */
  arm(digest: string, fault: UpstreamFault, times = 1): void {
    this.#faults.set(digest, { fault, times });
  }

  /** Blob GETs received for `digest` (faulty ones included). */
  gets(digest: string): number {
    return this.#gets.get(digest) ?? 0;
  }

  /** Faulty answers still armed for `digest`. */
  armed(digest: string): number {
    return this.#faults.get(digest)?.times ?? 0;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#answer(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/v2/' || path === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const m = path.match(/^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/);
    const bytes = m ? this.#blobs.get(m[1]!) : undefined;
    if (!m || !bytes) {
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
    }
    const digest = m[1]!;
    const headers = { 'content-type': 'application/octet-stream', 'docker-content-digest': digest };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': String(bytes.length) }).end();
    this.#gets.set(digest, this.gets(digest) + 1);
    const armed = this.#faults.get(digest);
    const fault = armed && armed.times > 0 ? armed.fault : undefined;
    if (armed && fault) armed.times -= 1;
    let body = bytes;
    let declared = bytes.length;
    if (fault === 'wrong-bytes') {
      body = Buffer.from(bytes);
      body[body.length >> 1]! ^= 0xff;
    }
    if (fault === 'lies-about-length') declared = bytes.length + 4096;
    res.writeHead(200, { ...headers, 'content-length': String(declared) });
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    const cut = fault === 'dies-mid-stream' || fault === 'stalls' ? body.length >> 1 : body.length;
    await this.#send(res, body.subarray(0, cut));
    if (res.destroyed) return;
    if (fault === 'dies-mid-stream' || fault === 'lies-about-length') return void res.socket?.destroy();
    // Stalls: the connection stays open until the client gives up (or stop()).
    if (fault === 'stalls') return;
    res.end();
  }

  /** Writes `bytes` in 16 KiB chunks at the configured rate. */
  async #send(res: ServerResponse, bytes: Buffer): Promise<void> {
    const chunk = 16 << 10;
    for (let at = 0; at < bytes.length && !res.destroyed; at += chunk) {
      const part = bytes.subarray(at, at + chunk);
      res.write(part);
      await new Promise((r) => setTimeout(r, (part.length / this.bytesPerSecond) * 1000));
    }
  }
}
