import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PingOptions, UpstreamPing } from '../upstream-ping.ts';
import { classifyPingFailure } from '../upstream-ping.ts';
import type { UpstreamHead, UpstreamRegistry, UpstreamResponse, UpstreamTarget } from '../upstream-registry.ts';

interface StoredObject {
  bytes: Buffer;
  contentType: string;
  /** Bytes actually sent, to play an upstream that lies. */
  served?: Buffer;
}

/** An in-memory upstream for unit tests, counting every request so tests can prove hits and misses. */
export class FakeUpstreamRegistry implements UpstreamRegistry {
  readonly manifests = new Map<string, StoredObject>();
  readonly blobs = new Map<string, StoredObject>();
  readonly calls: string[] = [];
  /** Pause between 64 KiB body chunks, ms: a slow upstream keeps fills open. */
  chunkDelayMs = 0;
  /** When set, every request fails with it (an upstream down or rate-limiting). */
  failWith: Error | undefined;

  addManifest(url: string, image: string, tag: string, bytes: Buffer, contentType: string): string {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.manifests.set(`${url}|${image}|${tag}`, { bytes, contentType });
    this.manifests.set(`${url}|${image}|${digest}`, { bytes, contentType });
    return digest;
  }

  addBlob(url: string, image: string, bytes: Buffer, served?: Buffer): string {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.blobs.set(`${url}|${image}|${digest}`, { bytes, contentType: 'application/octet-stream', ...(served ? { served } : {}) });
    return digest;
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }

  async getManifest(t: UpstreamTarget, image: string, reference: string): Promise<UpstreamResponse | undefined> {
    this.calls.push(`GET manifest ${image}:${reference}`);
    if (this.failWith) throw this.failWith;
    const o = this.manifests.get(`${t.url}|${image}|${reference}`);
    return o && this.#response(o, true);
  }

  async headManifest(t: UpstreamTarget, image: string, reference: string): Promise<UpstreamHead | undefined> {
    this.calls.push(`HEAD manifest ${image}:${reference}`);
    if (this.failWith) throw this.failWith;
    const o = this.manifests.get(`${t.url}|${image}|${reference}`);
    return o && { contentType: o.contentType, contentLength: o.bytes.length, dockerContentDigest: digestOf(o.bytes), headers: {} };
  }

  async getBlob(t: UpstreamTarget, image: string, digest: string): Promise<UpstreamResponse | undefined> {
    this.calls.push(`GET blob ${digest}`);
    if (this.failWith) throw this.failWith;
    const o = this.blobs.get(`${t.url}|${image}|${digest}`);
    return o && this.#response(o, false);
  }

  async headBlob(t: UpstreamTarget, image: string, digest: string): Promise<UpstreamHead | undefined> {
    this.calls.push(`HEAD blob ${digest}`);
    if (this.failWith) throw this.failWith;
    const o = this.blobs.get(`${t.url}|${image}|${digest}`);
    return o && { contentType: o.contentType, contentLength: o.bytes.length, headers: {} };
  }

  async *#paced(chunks: Buffer[]): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      if (this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      yield chunk;
    }
  }

  /** Tags per `url|image`, served by getTagList. */
  readonly tags = new Map<string, string[]>();

  async getTagList(t: UpstreamTarget, image: string): Promise<UpstreamResponse | undefined> {
    this.calls.push(`GET tags ${image}`);
    if (this.failWith) throw this.failWith;
    const tags = this.tags.get(`${t.url}|${image}`);
    return (
      tags && {
        status: 200,
        body: Readable.from([Buffer.from(JSON.stringify({ name: image, tags }))]),
        contentType: 'application/json',
        headers: {},
      }
    );
  }

  /** Like a registry without the referrers API: always 404. */
  async getReferrers(_t: UpstreamTarget, image: string, digest: string): Promise<UpstreamResponse | undefined> {
    this.calls.push(`GET referrers ${image}@${digest}`);
    if (this.failWith) throw this.failWith;
    return undefined;
  }

  /** What `ping` answers per upstream URL; unlisted URLs answer `ok` (or per `failWith`). */
  readonly pings = new Map<string, Omit<UpstreamPing, 'latencyMs'> & { latencyMs?: number }>();
  /** The targets `ping` was called with, credentials included, so tests can check what reached the client. */
  readonly pingTargets: UpstreamTarget[] = [];

  async ping(t: UpstreamTarget, opts?: PingOptions): Promise<UpstreamPing> {
    this.calls.push(`PING ${t.url}`);
    this.pingTargets.push({ ...t });
    opts?.signal?.throwIfAborted();
    const set = this.pings.get(t.url);
    if (set !== undefined) return { latencyMs: 1, ...set };
    if (this.failWith) {
      const failed = classifyPingFailure(this.failWith);
      if (failed === undefined) throw this.failWith;
      return { latencyMs: 1, ...failed };
    }
    return {
      result: 'ok',
      status: 200,
      latencyMs: 1,
      message: `${t.url}/v2/ answered 200 ${t.username === undefined ? 'anonymously' : 'with Basic credentials'}`,
    };
  }

  #response(o: StoredObject, manifest: boolean): UpstreamResponse {
    const sent = o.served ?? o.bytes;
    // Several chunks, so streaming paths are exercised.
    const chunks: Buffer[] = [];
    for (let i = 0; i < sent.length; i += 64 * 1024) chunks.push(sent.subarray(i, i + 64 * 1024));
    return {
      status: 200,
      body: Readable.from(this.#paced(chunks)),
      contentType: o.contentType,
      contentLength: sent.length,
      ...(manifest ? { dockerContentDigest: digestOf(o.bytes) } : {}),
      headers: {},
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
