import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from './admin-client.ts';
import { getAndHangUp, rawGet, sha256 } from './http-get.ts';
import { hostOf, readPulledDir, skopeoPull } from './skopeo.ts';
import { testEnv } from './test-env.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** A running vreg, whatever its mode, seen only through its public interfaces. */
export interface VregUnderTest {
  /** Base URL of the gateway (`/v2`). */
  gatewayUrl: string;
  admin: AdminClient;
  /** Digests present in the blob store. */
  storedDigests(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The images every mode must pull byte-identically (seeded by scripts/test-env/seed.mjs into upstream A). */
export const SEEDED_IN_A = [
  { name: 'library/busybox', tag: 'latest', all: false },
  { name: 'library/bigimage', tag: 'v1', all: false },
  { name: 'library/multiarch', tag: 'latest', all: true },
  { name: 'team/app/api', tag: '1.0', all: false },
] as const;

const pullRef = (gatewayUrl: string, registryId: string, name: string, tag: string): string =>
  `${hostOf(gatewayUrl)}/virtual_registries/containers/${registryId}/${name}:${tag}`;

/** Relative paths a pull must leave in the catalog, from a direct `dir:` pull: tag + digest of the top manifest, each instance manifest, each blob. */
function expectedPaths(name: string, tag: string, files: Map<string, Buffer>): Map<string, { digest: string; size: number }> {
  const out = new Map<string, { digest: string; size: number }>();
  const top = files.get('manifest.json');
  if (!top) throw new Error('direct pull has no manifest.json');
  out.set(`${name}/manifests/${tag}`, { digest: sha256(top), size: top.length });
  out.set(`${name}/manifests/${sha256(top)}`, { digest: sha256(top), size: top.length });
  for (const [file, bytes] of files) {
    if (file === 'manifest.json') continue;
    const m = file.match(/^(?:sha256-)?([a-f0-9]{64})(\.manifest\.json)?$/);
    if (!m) continue;
    const digest = `sha256:${m[1]}`;
    out.set(m[2] ? `${name}/manifests/${digest}` : `${name}/blobs/${digest}`, { digest, size: bytes.length });
  }
  return out;
}

/**
 * The pull-through behaviour every mode must show, driven by skopeo and the
 * admin API against a real upstream registry.
 */
export function describePullThrough(mode: string, start: () => Promise<VregUnderTest>): void {
  describe(`pull-through cache (${mode} mode)`, () => {
    const env = testEnv();
    let vreg: VregUnderTest;
    let registryId: string;
    let upstreamId: string;
    const direct = new Map<string, Map<string, Buffer>>();

    beforeAll(async () => {
      for (const image of SEEDED_IN_A) {
        direct.set(
          image.name,
          await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/${image.name}:${image.tag}`, { all: image.all })),
        );
      }
      vreg = await start();
      registryId = (await vreg.admin.createRegistry(`pull-${mode}`)).id;
      upstreamId = (await vreg.admin.addUpstream(registryId, { name: 'upstream-a', url: env.upstreamA })).id;
    });

    afterAll(async () => {
      await run('bash', [env.upstreamScript, 'start', 'A']).catch(() => undefined);
      await vreg?.stop();
    });

    it('answers /v2/ with the API version header: 401 with a Bearer challenge without a token, 200 with one', async () => {
      const res = await fetch(`${vreg.gatewayUrl}/v2/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="http:\/\/[^"]+\/v2\/token",service="vreg"$/);
      const { token } = (await (await fetch(`${vreg.gatewayUrl}/v2/token?service=vreg`)).json()) as { token: string };
      const ok = await fetch(`${vreg.gatewayUrl}/v2/`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({});
    });

    it('pulls every seeded image cold, byte-identical to a direct pull from the upstream', async () => {
      for (const image of SEEDED_IN_A) {
        const through = await readPulledDir(
          await skopeoPull(env.skopeo, pullRef(vreg.gatewayUrl, registryId, image.name, image.tag), { all: image.all }),
        );
        expect([...through.keys()]).toEqual([...direct.get(image.name)!.keys()]);
        for (const [file, bytes] of direct.get(image.name)!)
          expect(sha256(through.get(file)!), `${image.name} ${file}`).toBe(sha256(bytes));
      }
    });

    it('records one cache entry per manifest (by tag and by digest) and per blob, and stores each object once', async () => {
      const expected = new Map<string, { digest: string; size: number }>();
      for (const image of SEEDED_IN_A)
        for (const [p, v] of expectedPaths(image.name, image.tag, direct.get(image.name)!)) expected.set(p, v);
      const entries = await waitFor('every cache entry', async () => {
        const list = await vreg.admin.cacheEntries(upstreamId);
        return list.length >= expected.size ? list : undefined;
      });
      const byPath = new Map(entries.map((e) => [String(e.relative_path), e]));
      expect(entries.length).toBe(byPath.size);
      expect([...byPath.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [path, want] of expected) {
        const got = byPath.get(path)!;
        expect(got.digest, path).toBe(want.digest);
        expect(got.size, path).toBe(want.size);
        expect(String(got.content_type), path).not.toBe('');
      }
      const manifestOf = byPath.get('library/busybox/manifests/latest')!;
      expect(manifestOf.content_type).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(byPath.get('library/bigimage/manifests/v1')!.content_type).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(byPath.get('library/multiarch/manifests/latest')!.content_type).toBe('application/vnd.oci.image.index.v1+json');
      const stored = await vreg.storedDigests();
      expect(new Set(stored).size).toBe(stored.length);
      for (const { digest } of expected.values()) expect(stored).toContain(digest);
    });

    it('answers HEAD from the cache with digest, length and type and no body', async () => {
      const top = direct.get('library/busybox')!.get('manifest.json')!;
      const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/library/busybox/manifests/latest`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(sha256(top));
      expect(res.headers.get('content-length')).toBe(String(top.length));
      expect(res.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(res.headers.get('x-vreg-cache')).toBe('hit');
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    });

    it('serves the second pull from the cache with the upstream stopped', async () => {
      await run('bash', [env.upstreamScript, 'stop', 'A']);
      try {
        for (const image of SEEDED_IN_A) {
          const again = await readPulledDir(
            await skopeoPull(env.skopeo, pullRef(vreg.gatewayUrl, registryId, image.name, image.tag), { all: image.all }),
          );
          for (const [file, bytes] of direct.get(image.name)!)
            expect(sha256(again.get(file)!), `${image.name} ${file}`).toBe(sha256(bytes));
        }
      } finally {
        await run('bash', [env.upstreamScript, 'start', 'A']);
      }
    });

    it('serves from the second upstream when the first answers 404 or refuses connections', async () => {
      const refused = createServer();
      await new Promise<void>((r) => refused.listen(0, '127.0.0.1', r));
      const deadPort = (refused.address() as AddressInfo).port;
      await new Promise<void>((r) => refused.close(() => r()));
      const id = (await vreg.admin.createRegistry(`two-upstreams-${mode}`)).id;
      const dead = await vreg.admin.addUpstream(id, { name: 'refuses', url: `http://127.0.0.1:${deadPort}` });
      const b = await vreg.admin.addUpstream(id, { name: 'upstream-b', url: env.upstreamB });
      const a = await vreg.admin.addUpstream(id, { name: 'upstream-a', url: env.upstreamA });
      const pulled = await readPulledDir(await skopeoPull(env.skopeo, pullRef(vreg.gatewayUrl, id, 'team/app/api', '1.0')));
      for (const [file, bytes] of direct.get('team/app/api')!) expect(sha256(pulled.get(file)!)).toBe(sha256(bytes));
      const onlyInB = await skopeoPull(env.skopeo, pullRef(vreg.gatewayUrl, id, 'library/only-in-b', 'latest'));
      expect((await readPulledDir(onlyInB)).size).toBeGreaterThan(1);
      await waitFor('entries recorded for the upstreams that served', async () => {
        const [ea, eb] = [await vreg.admin.cacheEntries(a.id), await vreg.admin.cacheEntries(b.id)];
        return ea.some((e) => e.relative_path === 'team/app/api/manifests/1.0') &&
          eb.some((e) => e.relative_path === 'library/only-in-b/manifests/latest')
          ? true
          : undefined;
      });
      expect(await vreg.admin.cacheEntries(dead.id)).toEqual([]);
      expect((await vreg.admin.cacheEntries(b.id)).some((e) => String(e.relative_path).startsWith('team/app/api/'))).toBe(false);
    });

    it('answers unknown names with 404 and malformed ones with 400, never 500', async () => {
      const base = `${vreg.gatewayUrl}/v2/virtual_registries/containers`;
      const cases: Array<[string, string, number, string]> = [
        ['GET', `${base}/${registryId}/library/nope/manifests/latest`, 404, 'MANIFEST_UNKNOWN'],
        ['GET', `${base}/${registryId}/library/busybox/manifests/no-such-tag`, 404, 'MANIFEST_UNKNOWN'],
        ['GET', `${base}/${registryId}/library/busybox/blobs/sha256:${'0'.repeat(64)}`, 404, 'BLOB_UNKNOWN'],
        ['GET', `${base}/999999/library/busybox/manifests/latest`, 404, 'NAME_UNKNOWN'],
        ['GET', `${base}/${registryId}/Library/BusyBox/manifests/latest`, 400, 'NAME_INVALID'],
        ['GET', `${base}/${registryId}/library/busybox/blobs/sha256:xyz`, 400, 'DIGEST_INVALID'],
        ['GET', `${base}/${registryId}/library/busybox/blobs/md5:${'0'.repeat(32)}`, 400, 'DIGEST_INVALID'],
        ['GET', `${base}/${registryId}/library%2Fbusybox/manifests/latest`, 400, 'NAME_INVALID'],
        ['GET', `${base}/abc/library/busybox/manifests/latest`, 400, 'NAME_INVALID'],
        ['PUT', `${base}/${registryId}/library/busybox/manifests/latest`, 405, 'UNSUPPORTED'],
        ['POST', `${base}/${registryId}/library/busybox/blobs/uploads/`, 405, 'UNSUPPORTED'],
        ['GET', `${vreg.gatewayUrl}/v2/library/busybox/manifests/latest`, 404, 'NAME_UNKNOWN'],
      ];
      for (const [method, url, status, code] of cases) {
        const res = await fetch(url, { method });
        const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
        expect({ url, status: res.status, code: body.errors[0]?.code }).toEqual({ url, status, code });
        expect(body.errors[0]?.message).toBeTruthy();
      }
    });

    it('never hands out or stores bytes that do not match the digest an upstream was asked for', async () => {
      const good = randomBytes(1 << 20);
      const bad = Buffer.from(good);
      bad[bad.length - 1] = (bad[bad.length - 1]! + 1) % 256;
      const digest = sha256(good);
      const liar: Server = createServer((req, res) => {
        if (req.url === '/v2/' || req.url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        if (req.url?.endsWith(`/blobs/${digest}`)) {
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': String(bad.length),
            'docker-content-digest': digest,
          });
          return void res.end(req.method === 'HEAD' ? undefined : bad);
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"x"}]}');
      });
      await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
      try {
        const id = (await vreg.admin.createRegistry(`liar-${mode}`)).id;
        const up = await vreg.admin.addUpstream(id, { name: 'liar', url: `http://127.0.0.1:${(liar.address() as AddressInfo).port}` });
        const res = await rawGet(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/evil/image/blobs/${digest}`);
        expect(res.status === 200 && !res.truncated && res.body.equals(bad)).toBe(false);
        if (res.status === 200) expect(res.truncated).toBe(true);
        await new Promise((r) => setTimeout(r, 1500));
        expect(await vreg.admin.cacheEntries(up.id)).toEqual([]);
        expect(await vreg.storedDigests()).not.toContain(digest);
      } finally {
        liar.closeAllConnections();
        await new Promise<void>((r) => liar.close(() => r()));
      }
    });
  });
}

/**
 * A client that hangs up halfway through a large blob miss: the object ends
 * up stored and recorded anyway (the fill goes on without its client, and
 * the fetcher finishes what a gateway abandons). Runs on a fresh instance so
 * the blob is not cached yet.
 */
export function describeAbandonedFill(mode: string, start: () => Promise<VregUnderTest>): void {
  describe(`abandoned fill (${mode} mode)`, () => {
    const env = testEnv();
    let vreg: VregUnderTest;
    afterAll(async () => vreg?.stop());

    it('stores and records a large blob whose client disconnected halfway', async () => {
      const direct = await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/library/bigimage:v1`));
      const [file, bytes] = [...direct].filter(([f]) => f !== 'manifest.json').sort((x, y) => y[1].length - x[1].length)[0]!;
      expect(bytes.length).toBeGreaterThan(16 << 20);
      const digest = `sha256:${file.replace(/^sha256-/, '')}`;
      vreg = await start();
      const id = (await vreg.admin.createRegistry(`abandon-${mode}`)).id;
      const up = await vreg.admin.addUpstream(id, { name: 'upstream-a', url: env.upstreamA });
      const url = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/library/bigimage/blobs/${digest}`;
      const partial = await getAndHangUp(url, 2 << 20);
      expect(partial.status).toBe(200);
      expect(partial.received).toBeLessThan(bytes.length);
      await waitFor(
        'the abandoned blob to be recorded',
        async () =>
          (await vreg.admin.cacheEntries(up.id)).some((e) => e.relative_path === `library/bigimage/blobs/${digest}`) ? true : undefined,
        60_000,
      );
      expect(await vreg.storedDigests()).toContain(digest);
      const again = await rawGet(url);
      expect(again.status).toBe(200);
      expect(again.headers['x-vreg-cache']).toBe('hit');
      expect(sha256(again.body)).toBe(digest);
    });
  });
}
