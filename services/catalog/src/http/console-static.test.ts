import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consoleStatic } from './console-static.ts';

let dir: string;
let server: FastifyInstance;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vreg-console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>');
  await writeFile(join(dir, 'assets/index-abc.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets/index-abc.css'), 'body{}');
  await writeFile(join(dir, 'secret.txt'), 'outside assets');
  server = Fastify({ logger: false });
  await server.register(consoleStatic({ root: dir }), { prefix: '/console' });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('console static files', () => {
  it('serves index.html at /console/ uncached, with a strict CSP and no framing', async () => {
    const res = await server.inject('/console/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toContain('index-abc.js');
  });

  it('redirects /console to /console/', async () => {
    const res = await server.inject('/console');
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe('/console/');
  });

  it('answers client-side routes with index.html', async () => {
    const res = await server.inject('/console/registries/7/upstreams');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('index-abc.js');
  });

  it('serves hashed assets with their content type, cached for a year', async () => {
    const js = await server.inject('/console/assets/index-abc.js');
    expect(js.statusCode).toBe(200);
    // Either JavaScript MIME type is valid for module scripts (RFC 9239); @fastify/static's mime table says application/.
    expect(js.headers['content-type']).toMatch(/^(text|application)\/javascript; charset=utf-8$/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await server.inject('/console/assets/index-abc.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for a missing asset and never serves a file outside the build', async () => {
    expect((await server.inject('/console/assets/nope.js')).statusCode).toBe(404);
    const escaped = await server.inject('/console/assets/..%2F..%2Fsecret.txt');
    expect(escaped.statusCode).toBe(404);
    expect(escaped.body).not.toContain('outside assets');
  });

  it('answers a conditional request for an asset or index.html with 304 and no body', async () => {
    for (const url of ['/console/assets/index-abc.js', '/console/']) {
      const first = await server.inject(url);
      expect(first.headers.etag).toBeDefined();
      const again = await server.inject({ url, headers: { 'if-none-match': first.headers.etag as string } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('serves the precompressed copy to a client that accepts it, and the plain file to one that does not', async () => {
    const plain = 'console.log("a long enough script");'.repeat(50);
    await writeFile(join(dir, 'assets/app-def.js'), plain);
    await writeFile(join(dir, 'assets/app-def.js.br'), brotliCompressSync(plain));
    await writeFile(join(dir, 'assets/app-def.js.gz'), gzipSync(plain));
    const br = await server.inject({ url: '/console/assets/app-def.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(String(br.headers.vary).toLowerCase()).toContain('accept-encoding');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain);
    const gz = await server.inject({ url: '/console/assets/app-def.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain);
    const identity = await server.inject({ url: '/console/assets/app-def.js', headers: { 'accept-encoding': 'identity' } });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body).toBe(plain);
  });

  it('serves only the file types a console build has from assets/', async () => {
    await writeFile(join(dir, 'assets/tool.sh'), 'echo hi');
    const res = await server.inject('/console/assets/tool.sh');
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('answers 503 with how to build when there is no build', async () => {
    await rm(join(dir, 'index.html'));
    const res = await server.inject('/console/');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:console');
  });
});
