import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';

/** What a registry client sends to get a single-platform image manifest of either family. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Fetched {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** `sha256:<hex>` of the body, when hashing was asked for. */
  digest?: string;
  /** The body itself, when keeping it was asked for (manifests only). */
  body?: Buffer;
}

export interface ImageShape {
  manifestDigest: string;
  /** Config and layer digests with their sizes, in manifest order. */
  blobs: Array<{ digest: string; size: number }>;
}

/**
 * A small registry client for load generation: node's http with a
 * keep-alive agent, bodies discarded as they arrive (optionally hashed, so
 * every byte is verified without being kept).
 */
export class PullClient {
  readonly agent: Agent;

  constructor(maxSockets = 64) {
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  }

  /** One GET; rejects on a transport error or a status other than 200. */
  get(url: string, options: { accept?: string; hash?: boolean; keep?: boolean; onData?: (bytes: number) => void } = {}): Promise<Fetched> {
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: this.agent, headers: options.accept ? { accept: options.accept } : {} }, (res) => {
        const hash = options.hash ? createHash('sha256') : undefined;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          options.onData?.(chunk.length);
          hash?.update(chunk);
          if (options.keep) chunks.push(chunk);
        });
        res.on('error', reject);
        // After 'end' this is a no-op; before it, the connection was cut.
        res.on('close', () => reject(new Error(`GET ${url}: connection closed after ${bytes} bytes`)));
        res.on('end', () => {
          if (!res.complete) return reject(new Error(`GET ${url}: connection closed after ${bytes} bytes`));
          if (res.statusCode !== 200)
            return reject(new Error(`GET ${url}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`));
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (!Number.isNaN(declared) && declared !== bytes)
            return reject(new Error(`GET ${url}: ${bytes} bytes, Content-Length ${declared}`));
          resolve({
            status: res.statusCode,
            bytes,
            ...(hash ? { digest: `sha256:${hash.digest('hex')}` } : {}),
            ...(options.keep ? { body: Buffer.concat(chunks) } : {}),
          });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** GET a manifest by tag or digest, keeping and hashing its body. */
  async manifest(base: string, image: string, reference: string): Promise<{ digest: string; body: Buffer }> {
    const res = await this.get(`${base}/${image}/manifests/${reference}`, { accept: MANIFEST_ACCEPT, hash: true, keep: true });
    if (reference.startsWith('sha256:') && res.digest !== reference)
      throw new Error(`manifest ${image}@${reference} hashed to ${res.digest}`);
    return { digest: res.digest!, body: res.body! };
  }

  /** GET a blob, discarding its bytes; with `verify`, hashes them and rejects on a digest mismatch. `onData` sees each chunk's size. */
  async blob(base: string, image: string, digest: string, verify: boolean, onData?: (bytes: number) => void): Promise<number> {
    const res = await this.get(`${base}/${image}/blobs/${digest}`, { hash: verify, ...(onData ? { onData } : {}) });
    if (verify && res.digest !== digest) throw new Error(`blob ${image}@${digest} hashed to ${res.digest}`);
    return res.bytes;
  }

  /**
   * Pulls an image the way a container client does: the manifest, then every
   * blob (config and layers), `parallelBlobs` at a time (docker pulls 3).
   * Resolves the bytes received.
   */
  async pullImage(base: string, image: string, tag: string, options: { verify: boolean; parallelBlobs?: number }): Promise<number> {
    const manifest = await this.manifest(base, image, tag);
    const shape = imageShape(manifest.digest, manifest.body);
    const queue = [...shape.blobs];
    let bytes = manifest.body.length;
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const got = await this.blob(base, image, next.digest, options.verify);
        if (got !== next.size) throw new Error(`blob ${next.digest}: ${got} bytes, manifest says ${next.size}`);
        bytes += got;
      }
    };
    await Promise.all(Array.from({ length: options.parallelBlobs ?? 1 }, worker));
    return bytes;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The config and layers of a single-platform image manifest. */
export function imageShape(manifestDigest: string, body: Buffer): ImageShape {
  const doc = JSON.parse(body.toString()) as {
    config?: { digest: string; size: number };
    layers?: Array<{ digest: string; size: number }>;
  };
  if (!doc.config || !doc.layers) throw new Error(`manifest ${manifestDigest} is not a single-platform image manifest`);
  return { manifestDigest, blobs: [doc.config, ...doc.layers].map((b) => ({ digest: b.digest, size: b.size })) };
}
