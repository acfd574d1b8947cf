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
