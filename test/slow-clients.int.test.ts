import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { rawGet } from './support/http-get.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A raw connection to vreg: what it received, and when it was closed. */
interface RawConnection {
  socket: Socket;
  received(): string;
  /** Resolves with the ms from `since` to the close, or undefined if still open after `withinMs`. */
  closedWithin(withinMs: number): Promise<number | undefined>;
}

async function open(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks).toString('latin1'),
    closedWithin: async (withinMs) =>
      Promise.race([closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), withinMs).unref())]),
  };
}

/** Writes `byte` every `everyMs` until the socket closes. */
function trickle(socket: Socket, byte: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) clearInterval(timer);
    else socket.write(byte);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** An upstream that sends a blob in 64 KiB pieces, `delayMs` apart: a download slower than the request bound. */
async function slowUpstream(blob: Buffer, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    if (req.url === `/v2/slow/app/blobs/${sha256(blob)}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) });
      if (req.method === 'HEAD') return void res.end();
      for (let at = 0; at < blob.length; at += 64 * 1024) {
        res.write(blob.subarray(at, at + 64 * 1024));
        await new Promise((r) => setTimeout(r, delayMs));
      }
      return void res.end();
    }
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A GET with Connection: keep-alive on a raw socket; resolves once the whole (small) answer is in. */
async function keptAliveRequest(url: string): Promise<RawConnection> {
  const c = await open(url);
  c.socket.write('GET /v2/ HTTP/1.1\r\nHost: vreg\r\n\r\n');
  const deadline = Date.now() + 30_000;
  while (!/\r\n\r\n[\s\S]*\}/.test(c.received())) {
    if (Date.now() > deadline || c.socket.destroyed) throw new Error(`no answer: ${JSON.stringify(c.received())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return c;
}

describe('slow clients and many connections (embedded vreg)', () => {
  let vreg: VregUnderTest | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await vreg?.stop();
    vreg = undefined;
  });

  const BOUND_MS = 3_000;

  it('closes a token request whose declared 10,000-byte body trickles in a byte at a time, after the receive bound', async () => {
    recordAttacks(
      AttackClasses.slowBodies,
      'closes a token request whose declared 10,000-byte body trickles in a byte at a time, after the receive bound',
      'test/slow-clients.int.test.ts',
    ).tried(1);
    vreg = await startEmbeddedUnderTest({ VREG_REQUEST_RECEIVE_TIMEOUT_MS: String(BOUND_MS) });
    const c = await open(vreg.gatewayUrl);
    const started = Date.now();
    c.socket.write(
      'POST /v2/token HTTP/1.1\r\nHost: vreg\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\ngrant_type=',
    );
    trickle(c.socket, 'a', 500);
    // Generous for a loaded machine; without a bound the connection stays open for ever.
    const closedAt = await c.closedWithin(45_000);
    expect(closedAt, 'the trickling request is still open').toBeDefined();
    expect((closedAt as number) - started).toBeGreaterThanOrEqual(BOUND_MS - 500);
    const answer = c.received();
    if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a request whose headers trickle in, after the same bound', async () => {
    recordAttacks(
      AttackClasses.slowBodies,
      'closes a request whose headers trickle in, after the same bound',
      'test/slow-clients.int.test.ts',
    ).tried(1);
    vreg = await startEmbeddedUnderTest({ VREG_REQUEST_RECEIVE_TIMEOUT_MS: String(BOUND_MS) });
    const c = await open(vreg.gatewayUrl);
    const started = Date.now();
    c.socket.write('GET /v2/ HTTP/1.1\r\nHost: vreg\r\n');
    trickle(c.socket, 'X-Slow: 1\r\n', 500);
    const closedAt = await c.closedWithin(45_000);
    expect(closedAt, 'the trickling headers are still open').toBeDefined();
    expect((closedAt as number) - started).toBeGreaterThanOrEqual(BOUND_MS - 500);
  });

  it('lets a blob download that takes longer than the receive bound complete, byte for byte', async () => {
    const blob = randomBytes(1 << 20);
    const upstream = await slowUpstream(blob, 400); // 16 pieces: about 6 s
    cleanups.push(() => upstream.close());
    vreg = await startEmbeddedUnderTest({ VREG_REQUEST_RECEIVE_TIMEOUT_MS: String(BOUND_MS) });
    const { id } = await vreg.admin.createRegistry('slow', { visibility: 'public' });
    await vreg.admin.addUpstream(id, { name: 'slow', url: upstream.url });
    const started = Date.now();
    const res = await rawGet(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/slow/app/blobs/${sha256(blob)}`);
    const took = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.truncated).toBe(false);
    expect(sha256(res.body)).toBe(sha256(blob));
    expect(took, 'the download must outlast the bound for this test to mean anything').toBeGreaterThan(BOUND_MS);
  });

  it('closes connections past VREG_MAX_CONNECTIONS at once, and takes new ones when one leaves', async () => {
    recordAttacks(
      AttackClasses.slowBodies,
      'closes connections past VREG_MAX_CONNECTIONS at once, and takes new ones when one leaves',
      'test/slow-clients.int.test.ts',
    ).tried(1);
    vreg = await startEmbeddedUnderTest({ VREG_MAX_CONNECTIONS: '4' });
    const url = vreg.gatewayUrl;
    const held: RawConnection[] = [];
    cleanups.push(() => {
      for (const c of held) c.socket.destroy();
    });
    for (let i = 0; i < 4; i += 1) held.push(await keptAliveRequest(url));
    const fifth = await open(url);
    fifth.socket.write('GET /v2/ HTTP/1.1\r\nHost: vreg\r\n\r\n');
    expect(await fifth.closedWithin(30_000), 'the connection past the cap was not closed').toBeDefined();
    expect(fifth.received()).toBe('');
    // The four held ones still work.
    held[0]?.socket.write('GET /v2/ HTTP/1.1\r\nHost: vreg\r\nConnection: close\r\n\r\n');
    expect(await held[0]?.closedWithin(30_000)).toBeDefined();
    expect(held[0]?.received().match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(2);
    // One left: a new client gets in (the server sees the close a moment later).
    const deadline = Date.now() + 30_000;
    let answered: string | undefined;
    while (answered === undefined && Date.now() < deadline) {
      const next = await open(url);
      next.socket.write('GET /v2/ HTTP/1.1\r\nHost: vreg\r\nConnection: close\r\n\r\n');
      await next.closedWithin(30_000);
      if (next.received().startsWith('HTTP/1.1 ')) answered = next.received();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(answered).toMatch(/^HTTP\/1\.1 (200|401) /);
  });
});
