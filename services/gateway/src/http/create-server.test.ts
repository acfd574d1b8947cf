import { connect } from 'node:net';
import { createLogger } from '@vreg/logging';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from './create-server.ts';

/** Sends `head` as-is (no client normalizes it) and returns the status and body. */
async function raw(port: number, head: string): Promise<{ status: number; body: string; head: string }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(head);
  await new Promise((r) => socket.on('close', r));
  const text = Buffer.concat(chunks).toString('utf8');
  return {
    status: Number(text.slice(9, 12)),
    body: text.slice(text.indexOf('\r\n\r\n') + 4),
    head: text.slice(0, text.indexOf('\r\n\r\n')),
  };
}

describe('createServer limits', () => {
  let server: FastifyInstance;
  let port: number;
  afterEach(async () => server?.close());

  async function start(limits: { maxHeaderBytes?: number; maxUrlBytes?: number }): Promise<void> {
    server = createServer(createLogger({ level: 'silent', name: 'test' }), limits);
    await server.register(
      async (app) => {
        app.get('/ping', async () => ({ ok: true }));
      },
      { prefix: '/v2' },
    );
    server.get('/outside', async () => ({ ok: true }));
    await server.listen({ host: '127.0.0.1', port: 0 });
    port = (server.server.address() as { port: number }).port;
  }

  it('answers 431 with an errors body when the headers pass VREG_MAX_HEADER_BYTES', async () => {
    await start({ maxHeaderBytes: 8192 });
    const small = await raw(port, `GET /v2/ping HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(6000)}\r\nConnection: close\r\n\r\n`);
    expect(small.status).toBe(200);
    const big = await raw(port, `GET /v2/ping HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(9000)}\r\nConnection: close\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toEqual({ errors: [{ code: 'SIZE_INVALID', message: expect.any(String) }] });
  });

  it("answers 414 in the API's error shape when the URL passes VREG_MAX_URL_BYTES", async () => {
    await start({ maxUrlBytes: 600 });
    expect((await raw(port, `GET /v2/ping?x=${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).status).toBe(200);
    const long = await raw(port, `GET /v2/ping?x=${'a'.repeat(700)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(long.status).toBe(414);
    expect(JSON.parse(long.body).errors[0]).toMatchObject({ code: 'NAME_INVALID', message: expect.stringContaining('600') });
    const admin = await raw(port, `GET /api/v1/registries?x=${'a'.repeat(700)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(admin.status).toBe(414);
    expect(JSON.parse(admin.body).errors[0]).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('answers malformed percent-encoding, unknown paths and malformed requests with 4xx errors bodies', async () => {
    await start({});
    const bad = await raw(port, 'GET /v2/%zz/manifests/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).errors[0].code).toBe('NAME_INVALID');
    const outside = await raw(
      port,
      'PUT /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    expect(outside.status).toBeGreaterThanOrEqual(400);
    expect(outside.status).toBeLessThan(500);
    expect(JSON.parse(outside.body).errors[0].code).toMatch(/^[A-Z_]+$/);
    const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body).errors[0].code).toBe('UNSUPPORTED');
  });

  it('gives every answer under /v2 nosniff and a sandboxing CSP: routes, refusals before routing, unknown paths, unparsable requests', async () => {
    await start({ maxUrlBytes: 600, maxHeaderBytes: 8192 });
    const hardened = (head: string) => {
      expect(head.toLowerCase()).toContain('\r\nx-content-type-options: nosniff');
      expect(head.toLowerCase()).toContain("\r\ncontent-security-policy: default-src 'none'; sandbox");
    };
    for (const request of [
      'GET /v2/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'HEAD /v2/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /v2/nothing/here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /v2/%zz/manifests/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      `GET /v2/ping?x=${'a'.repeat(700)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /v2/ping HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(9000)}\r\nConnection: close\r\n\r\n`,
      'NOT HTTP AT ALL\r\n\r\n',
    ]) {
      const res = await raw(port, request);
      expect(res.status, request.slice(0, 40)).toBeGreaterThan(0);
      hardened(res.head);
    }
    // Outside /v2 (the console's pages have a CSP of their own) a route's answer is left alone.
    const elsewhere = await raw(port, 'GET /outside HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.head.toLowerCase()).not.toContain('content-security-policy');
  });
});
