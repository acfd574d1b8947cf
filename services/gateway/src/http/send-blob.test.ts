import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import type { BlobRead } from '@vreg/blob-store';
import { requestTelemetry, startTelemetry } from '@vreg/telemetry';
import fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { sendBlob } from './send-blob.ts';

const bytes = Buffer.alloc(300_000, 7);

/** A GET over a real connection: the body received, and whether it ended cleanly (all Content-Length bytes, no error); a connection cut before the headers is status 0. */
function get(url: string): Promise<{ status: number; received: number; complete: boolean }> {
  return new Promise((resolve) => {
    request(url, (res) => {
      let received = 0;
      let failed = false;
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('error', () => (failed = true));
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          received,
          complete: !failed && res.complete && received === Number(res.headers['content-length']),
        }),
      );
    })
      .on('error', () => resolve({ status: 0, received: 0, complete: false }))
      .end();
  });
}

/** A read whose writeTo writes `failAfter` bytes, then fails (a disk error mid-blob). */
function failingRead(failAfter: number): BlobRead {
  return {
    size: bytes.length,
    get body(): Readable {
      throw new Error('not used');
    },
    async writeTo(destination: Writable, options) {
      await new Promise<void>((r) => destination.write(bytes.subarray(0, failAfter), () => r()));
      options?.onWritten?.(failAfter);
      throw Object.assign(new Error('disk gone'), { code: 'BLOB_STORE_UNAVAILABLE' });
    },
  };
}

describe('sendBlob', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  async function serve(body: () => BlobRead | Readable) {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    app = fastify();
    await app.register(requestTelemetry, { metrics: telemetry.metrics });
    app.get('/v2/virtual_registries/containers/:registryId/*', async (request, reply) => {
      reply.header('Content-Length', String(bytes.length));
      reply.header('X-Vreg-Cache', 'hit');
      await sendBlob(request, reply, body());
      return reply;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v2/virtual_registries/containers/1/library/a/blobs/sha256:${'a'.repeat(64)}`;
    return { url, telemetry };
  }

  it('writes a stored blob whole and counts its bytes as served from the cache', async () => {
    const { url, telemetry } = await serve(() => ({
      size: bytes.length,
      body: Readable.from([bytes]),
      async writeTo(destination: Writable, options) {
        for (let at = 0; at < bytes.length; at += 65_536) {
          const chunk = bytes.subarray(at, at + 65_536);
          await new Promise<void>((r) => destination.write(chunk, () => r()));
          options?.onWritten?.(chunk.length);
        }
      },
    }));
    expect(await get(url)).toEqual({ status: 200, received: bytes.length, complete: true });
    // Recorded when the response finishes, which the client may see first.
    const line = `vreg_bytes_served_total{source="cache",registry="1"} ${bytes.length}`;
    const deadline = Date.now() + 10_000;
    while (!(await telemetry.renderMetrics()).includes(line) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(await telemetry.renderMetrics()).toContain(line);
    await telemetry.shutdown();
  });

  it('cuts the connection when a stored blob fails part-way: the client never sees a clean end', async () => {
    const { url, telemetry } = await serve(() => failingRead(100_000));
    const got = await get(url);
    expect(got.status).toBe(200);
    expect(got.received).toBeLessThan(bytes.length);
    expect(got.complete).toBe(false);
    await telemetry.shutdown();
  });

  it('cuts the connection when a streamed body fails part-way', async () => {
    const { url, telemetry } = await serve(() => {
      let pushed = false;
      return new Readable({
        read() {
          if (pushed) return;
          pushed = true;
          this.push(bytes.subarray(0, 50_000));
          // A little later: the first bytes are on their way when the source fails.
          setTimeout(() => this.destroy(new Error('upstream gone')), 20);
        },
      });
    });
    const got = await get(url);
    expect(got.received).toBeLessThan(bytes.length);
    expect(got.complete).toBe(false);
    await telemetry.shutdown();
  });
});
