import { createHash, randomBytes } from 'node:crypto';
import {
  type AccessTokenVerifyReply,
  AccessTokenVerifyRequestSchema,
  type RegistryView,
  Subjects,
  UnauthorizedError,
} from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const HUB = 'http://hub.test';
const GHCR = 'http://ghcr.test';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const upstream = (id: string, url: string) => ({ id, name: id, url, position: 0, cacheValidityHours: 24 });
const registries: RegistryView[] = [
  { id: '1', name: 'hub', upstreams: [upstream('10', HUB)] },
  { id: '2', name: 'github', upstreams: [upstream('20', GHCR)] },
];
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const manifestBytes = (n: string) => Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","n":"${n}"}`);

describe('pulls at the root path (mirror routing)', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  async function mirrored(env: Record<string, string> = {}, views: RegistryView[] = registries) {
    h = await gatewayHarness(views, env);
    h.mirrors.set('docker.io', '1');
    h.mirrors.set('ghcr.io', '2');
    return h;
  }

  it('routes ?ns=<host> to the registry mirroring that host, and shares its cache with the prefixed path', async () => {
    await mirrored();
    const manifest = manifestBytes('app');
    const digest = h.upstream.addManifest(GHCR, 'org/app', '1.0', manifest, OCI_MANIFEST);
    const first = await h.server.inject({ method: 'GET', url: '/v2/org/app/manifests/1.0?ns=ghcr.io' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.rawPayload.equals(manifest)).toBe(true);
    expect(first.headers).toMatchObject({ 'docker-content-digest': digest, 'content-type': OCI_MANIFEST, 'x-vreg-cache': 'miss' });
    await h.recorded('org/app/manifests/1.0');
    const prefixed = await h.server.inject({ method: 'GET', url: '/v2/virtual_registries/containers/2/org/app/manifests/1.0' });
    expect(prefixed.headers['x-vreg-cache']).toBe('hit');
    const again = await h.server.inject({ method: 'HEAD', url: `/v2/org/app/manifests/${digest}?ns=ghcr.io` });
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.count('GET manifest')).toBe(1);
  });

  it('routes a pull without ns (Docker’s registry-mirrors) to the docker.io mirror, alpine and library/alpine alike', async () => {
    await mirrored();
    const manifest = manifestBytes('alpine');
    h.upstream.addManifest(HUB, 'library/alpine', 'latest', manifest, OCI_MANIFEST);
    const blob = randomBytes(100_000);
    const blobDigest = h.upstream.addBlob(HUB, 'library/alpine', blob);
    const first = await h.server.inject({ method: 'GET', url: '/v2/library/alpine/manifests/latest' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.rawPayload.equals(manifest)).toBe(true);
    await h.recorded('library/alpine/manifests/latest');
    const short = await h.server.inject({ method: 'GET', url: '/v2/alpine/manifests/latest' });
    expect(short.headers['x-vreg-cache']).toBe('hit');
    const hubNs = await h.server.inject({ method: 'GET', url: '/v2/alpine/manifests/latest?ns=docker.io' });
    expect(hubNs.headers['x-vreg-cache']).toBe('hit');
    const blobRes = await h.server.inject({ method: 'GET', url: `/v2/alpine/blobs/${blobDigest}` });
    expect(blobRes.statusCode).toBe(200);
    expect(sha(blobRes.rawPayload)).toBe(blobDigest);
    expect(h.upstream.calls.filter((c) => c.startsWith('GET'))).toEqual(['GET manifest library/alpine:latest', `GET blob ${blobDigest}`]);
  });

  it('coalesces a root and a prefixed pull of one blob into one upstream download', async () => {
    await mirrored();
    h.upstream.chunkDelayMs = 5;
    const blob = randomBytes(1 << 20);
    const digest = h.upstream.addBlob(HUB, 'library/busybox', blob);
    const [a, b] = await Promise.all([
      h.server.inject({ method: 'GET', url: `/v2/busybox/blobs/${digest}` }),
      h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/library/busybox/blobs/${digest}` }),
    ]);
    expect([sha(a.rawPayload), sha(b.rawPayload)]).toEqual([digest, digest]);
    expect(h.upstream.count('GET blob')).toBe(1);
  });

  it('answers 404 NAME_UNKNOWN naming the host when no registry mirrors it', async () => {
    await mirrored();
    const res = await h.server.inject({ method: 'GET', url: '/v2/org/app/manifests/1.0?ns=quay.io' });
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0]).toMatchObject({ code: 'NAME_UNKNOWN', detail: { host: 'quay.io' } });
    expect(res.json().errors[0].message).toMatch(/^no registry mirrors quay\.io: /);
    h.mirrors.delete('docker.io');
    const hub = await h.server.inject({ method: 'GET', url: '/v2/library/alpine/manifests/latest' });
    expect(hub.statusCode).toBe(404);
    expect(hub.json().errors[0].message).toMatch(/^no registry mirrors docker\.io: /);
    expect(h.upstream.calls).toEqual([]);
  });

  it('answers 404 for an ns that is no host, and for several ns, without asking anyone', async () => {
    await mirrored();
    for (const url of ['/v2/a/manifests/1?ns=https://ghcr.io', '/v2/a/manifests/1?ns=a%20b', '/v2/a/manifests/1?ns=ghcr.io&ns=docker.io']) {
      const res = await h.server.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().errors[0].code).toBe('NAME_UNKNOWN');
    }
  });

  it('refuses malformed names, digests and writes at the root as on the prefixed path', async () => {
    await mirrored();
    const cases: Array<[string, string, number, string]> = [
      ['GET', '/v2/UPPER/manifests/latest', 400, 'NAME_INVALID'],
      ['GET', '/v2/library/x/blobs/sha256:123', 400, 'DIGEST_INVALID'],
      ['GET', '/v2/anything/else', 404, 'NAME_UNKNOWN'],
      ['GET', '/v2/library%2Fx/manifests/latest', 400, 'NAME_INVALID'],
      ['PUT', '/v2/library/x/manifests/latest', 405, 'UNSUPPORTED'],
      ['POST', '/v2/library/x/blobs/uploads/', 405, 'UNSUPPORTED'],
      ['DELETE', '/v2/library/x/manifests/latest', 405, 'UNSUPPORTED'],
    ];
    for (const [method, url, status, code] of cases) {
      const res = await h.server.inject({ method: method as 'GET', url });
      expect(res.statusCode, `${method} ${url}`).toBe(status);
      expect(res.json().errors[0].code, `${method} ${url}`).toBe(code);
    }
  });

  it('lists tags at the root through the mirror', async () => {
    await mirrored();
    h.upstream.tags.set(`${GHCR}|org/app`, ['1.0', '2.0']);
    const res = await h.server.inject({ method: 'GET', url: '/v2/org/app/tags/list?ns=ghcr.io' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().tags).toEqual(['1.0', '2.0']);
    expect(h.upstream.calls).toEqual(['GET tags org/app']);
  });

  it('counts root pulls against the per-address rate limit', async () => {
    await mirrored({ VREG_PULL_RATE_LIMIT: '2' });
    h.upstream.addManifest(HUB, 'library/alpine', 'latest', manifestBytes('x'), OCI_MANIFEST);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await h.server.inject({ method: 'GET', url: '/v2/alpine/manifests/latest' })).statusCode);
    expect(codes).toEqual([200, 200, 429]);
  });
});

describe('access control at the root path', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  const TOKENS: Record<string, AccessTokenVerifyReply> = {
    vregat_only1: { tokenId: '1', name: 'only1', scopes: ['read_virtual_registry'], registryIds: ['1'] },
  };
  const basic = (secret: string) => `Basic ${Buffer.from(`u:${secret}`).toString('base64')}`;

  async function privateMirrors() {
    h = await gatewayHarness(
      [
        { id: '1', name: 'hub', visibility: 'private', upstreams: [upstream('10', HUB)] },
        { id: '2', name: 'other', visibility: 'private', upstreams: [upstream('20', HUB)] },
      ],
      { VREG_REGISTRY_CACHE_MS: '0' },
    );
    h.mirrors.set('docker.io', '1');
    await h.bus.serve(Subjects.accessTokenVerify, AccessTokenVerifyRequestSchema, async ({ sealedToken }) => {
      const reply = TOKENS[h.secrets.open(sealedToken)];
      if (reply === undefined) throw new UnauthorizedError('the access token is not valid');
      return reply;
    });
    h.upstream.addManifest(HUB, 'library/alpine', 'latest', manifestBytes('private'), OCI_MANIFEST);
  }

  async function tokenFor(scope: string): Promise<{ token: string; access: Array<{ name: string }> }> {
    const res = await h.server.inject({
      method: 'GET',
      url: `/v2/token?service=vreg&scope=${encodeURIComponent(scope)}`,
      headers: { authorization: basic('vregat_only1') },
    });
    expect(res.statusCode, res.body).toBe(200);
    const token = res.json().token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { access: Array<{ name: string }> };
    return { token, access: claims.access };
  }

  it('challenges a root pull with the scope of the routed registry’s own repository name', async () => {
    await privateMirrors();
    const res = await h.server.inject({ method: 'GET', url: '/v2/alpine/manifests/latest' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="http://localhost:80/v2/token",service="vreg",scope="repository:virtual_registries/containers/1/library/alpine:pull"',
    );
    expect(h.upstream.calls).toEqual([]);
  });

  it('lets a token limited to registry 1 pull at the root, asked for as Docker does (library/alpine), while registry 1 mirrors docker.io', async () => {
    await privateMirrors();
    const { token, access } = await tokenFor('repository:library/alpine:pull');
    expect(access.map((a) => a.name)).toEqual(['virtual_registries/containers/1/library/alpine']);
    const ok = await h.server.inject({
      method: 'GET',
      url: '/v2/library/alpine/manifests/latest',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    // The mirror moves to registry 2: the same token no longer reaches it at the root, nor does a new one.
    h.mirrors.set('docker.io', '2');
    const moved = await h.server.inject({
      method: 'GET',
      url: '/v2/library/alpine/manifests/latest',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(moved.statusCode).toBe(403);
    expect(moved.json().errors[0].code).toBe('DENIED');
    expect((await tokenFor('repository:library/alpine:pull')).access).toEqual([]);
  });
});
