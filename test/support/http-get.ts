import { createHash } from 'node:crypto';
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The connection ended before Content-Length bytes arrived, or errored. */
  truncated: boolean;
}

/** A plain GET that reports a cut connection instead of throwing, to tell a clean response from a broken one. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let truncated = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => {
        truncated = true;
      });
      res.on('error', () => {
        truncated = true;
      });
      res.on('close', () => {
        const body = Buffer.concat(chunks);
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (!res.complete || (!Number.isNaN(declared) && body.length !== declared)) truncated = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, truncated });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a GET, reads `bytes` of the body, then drops the connection like a client that went away. */
export function getAndHangUp(url: string, bytes: number): Promise<{ status: number; received: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= bytes) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, received });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, received }));
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end();
  });
}

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface HashedResponse {
  status: number;
  /** Bytes received. */
  size: number;
  /** sha256 of the bytes received, `sha256:<hex>`. */
  digest: string;
  /** The connection ended before Content-Length bytes arrived, or errored. */
  truncated: boolean;
}

/** A GET that hashes the body as it streams instead of keeping it: many clients pulling big blobs at once stay small. */
export function hashedGet(url: string, headers: Record<string, string> = {}): Promise<HashedResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      res.on('aborted', () => {
        truncated = true;
      });
      res.on('error', () => {
        truncated = true;
      });
      res.on('close', () => {
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (!res.complete || (!Number.isNaN(declared) && size !== declared)) truncated = true;
        resolve({ status: res.statusCode ?? 0, size, digest: `sha256:${hash.digest('hex')}`, truncated });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
