import {
  type AccessTokenVerifyReply,
  AccessTokenVerifyRequestSchema,
  CatalogUnavailableError,
  type RegistryView,
  Subjects,
  UnauthorizedError,
} from '@vreg/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const upUrl = (registryId: string) => `http://upstream-${registryId}.test`;
const upstream = (id: string) => ({ id, name: 'a', url: upUrl(id.slice(0, 1)), position: 0, cacheValidityHours: 24 });
const registries: RegistryView[] = [
  { id: '1', name: 'one', visibility: 'private', upstreams: [upstream('10')] },
  { id: '2', name: 'two', visibility: 'private', upstreams: [upstream('20')] },
  { id: '3', name: 'three', visibility: 'public', upstreams: [upstream('30')] },
];
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const repo = (id: string) => `virtual_registries/containers/${id}/library/alpine`;
const manifestUrl = (id: string) => `/v2/${repo(id)}/manifests/latest`;
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

/** Access tokens the stand-in catalog knows. */
const ACCESS_TOKENS: Record<string, AccessTokenVerifyReply> = {
  vregat_all: { tokenId: '1', name: 'all', scopes: ['read_virtual_registry'] },
  vregat_only1: { tokenId: '2', name: 'only1', scopes: ['read_virtual_registry'], registryIds: ['1'] },
};

describe('access control on /v2', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  let catalogDown = false;
  let verifications = 0;

  beforeEach(async () => {
    h = await gatewayHarness(registries);
    catalogDown = false;
    verifications = 0;
    await h.bus.serve(Subjects.accessTokenVerify, AccessTokenVerifyRequestSchema, async ({ sealedToken }) => {
      verifications += 1;
      if (catalogDown) throw new CatalogUnavailableError('down');
      const reply = ACCESS_TOKENS[h.secrets.open(sealedToken)];
      if (reply === undefined) throw new UnauthorizedError('the access token is not valid');
      return reply;
    });
    for (const id of ['1', '2', '3'])
      h.upstream.addManifest(upUrl(id), 'library/alpine', 'latest', Buffer.from(`{"schemaVersion":2,"r":${id}}`), OCI_MANIFEST);
  });
  afterEach(async () => h?.close());

  async function token(authorization: string | undefined, ...scopes: string[]): Promise<string> {
    const query = new URLSearchParams([['service', 'vreg'], ...scopes.map((s) => ['scope', s] as [string, string])]);
    const res = await h.server.inject({
      method: 'GET',
      url: `/v2/token?${query}`,
      headers: authorization === undefined ? {} : { authorization },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().token;
  }

  it('answers /v2/ without a token with 401 and a Bearer challenge naming the realm and service', async () => {
    const res = await h.server.inject({ method: 'GET', url: '/v2/' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="http://localhost:80/v2/token",service="vreg"');
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(res.json().errors[0].code).toBe('UNAUTHORIZED');
    const withToken = await h.server.inject({ method: 'GET', url: '/v2/', headers: { authorization: `Bearer ${await token(undefined)}` } });
    expect(withToken.statusCode).toBe(200);
  });

  it('challenges a pull from a private registry without a token with the repository scope', async () => {
    const res = await h.server.inject({ method: 'GET', url: manifestUrl('1') });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="http://localhost:80/v2/token",service="vreg",scope="repository:${repo('1')}:pull"`,
    );
    expect(h.upstream.count('GET manifest')).toBe(0);
  });

  it('pulls from a private registry with a token from GET /v2/token and Basic credentials', async () => {
    const res = await h.server.inject({
      method: 'GET',
      url: `/v2/token?service=vreg&scope=repository:${repo('1')}:pull`,
      headers: { authorization: basic('alice', 'vregat_all') },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({ token: body.token, access_token: body.token, expires_in: 300, issued_at: expect.any(String) });
    const pulled = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: `Bearer ${body.token}` } });
    expect(pulled.statusCode).toBe(200);
    expect(pulled.body).toBe('{"schemaVersion":2,"r":1}');
  });

  it('answers 403 DENIED when a token limited to registry 1 pulls from registry 2', async () => {
    const jwt = await token(basic('bob', 'vregat_only1'), `repository:${repo('1')}:pull`, `repository:${repo('2')}:pull`);
    expect((await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: `Bearer ${jwt}` } })).statusCode).toBe(
      200,
    );
    const denied = await h.server.inject({ method: 'GET', url: manifestUrl('2'), headers: { authorization: `Bearer ${jwt}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0].code).toBe('DENIED');
  });

  it('lets anyone pull from a public registry, with no token or an anonymous one', async () => {
    expect((await h.server.inject({ method: 'GET', url: manifestUrl('3') })).statusCode).toBe(200);
    const jwt = await token(undefined, `repository:${repo('3')}:pull`);
    expect((await h.server.inject({ method: 'HEAD', url: manifestUrl('3'), headers: { authorization: `Bearer ${jwt}` } })).statusCode).toBe(
      200,
    );
  });

  it('answers an anonymous token on a private registry with 401 insufficient_scope, so the client logs in', async () => {
    const jwt = await token(undefined, `repository:${repo('1')}:pull`);
    const res = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: `Bearer ${jwt}` } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('refuses an altered or foreign token with 401 invalid_token, even on a public registry', async () => {
    const jwt = await token(basic('bob', 'vregat_only1'), `repository:${repo('1')}:pull`);
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.access[0].name = repo('2');
    const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    for (const [url, bad] of [
      [manifestUrl('2'), altered],
      [manifestUrl('3'), altered],
      [manifestUrl('1'), 'not.a.jwt'],
    ] as const) {
      const res = await h.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bad}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('keeps name errors and unknown registries as they are, with or without a token', async () => {
    expect(
      (await h.server.inject({ method: 'GET', url: '/v2/virtual_registries/containers/99/library/alpine/manifests/latest' })).json()
        .errors[0].code,
    ).toBe('NAME_UNKNOWN');
    expect((await h.server.inject({ method: 'GET', url: '/v2/virtual_registries/containers/1/Bad/manifests/latest' })).statusCode).toBe(
      400,
    );
  });

  it('pulls with an access token in a Basic header, as a runtime given a static header does, checked on every request', async () => {
    const only1 = basic('node', 'vregat_only1');
    const pulled = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: only1 } });
    expect(pulled.statusCode, pulled.body).toBe(200);
    expect(pulled.body).toBe('{"schemaVersion":2,"r":1}');
    expect((await h.server.inject({ method: 'HEAD', url: manifestUrl('1'), headers: { authorization: only1 } })).statusCode).toBe(200);
    const denied = await h.server.inject({ method: 'GET', url: manifestUrl('2'), headers: { authorization: only1 } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0].code).toBe('DENIED');
    expect((await h.server.inject({ method: 'GET', url: manifestUrl('3'), headers: { authorization: only1 } })).statusCode).toBe(200);
    expect((await h.server.inject({ method: 'GET', url: '/v2/', headers: { authorization: only1 } })).statusCode).toBe(200);
    expect(verifications).toBe(5);
  });

  it('answers a wrong or malformed Basic header on a pull with 401 and the Bearer challenge, and throttles repeated ones', async () => {
    const wrong = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: basic('node', 'vregat_nope') } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe(
      `Bearer realm="http://localhost:80/v2/token",service="vreg",scope="repository:${repo('1')}:pull",error="invalid_token"`,
    );
    expect(wrong.body).not.toContain('vregat_nope');
    const malformed = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: 'Basic !!!' } });
    expect(malformed.statusCode).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const res = await h.server.inject({
        method: 'GET',
        url: manifestUrl('1'),
        remoteAddress: '10.0.0.99',
        headers: { authorization: basic(`n${i}`, `vregat_guess${i}`) },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(h.upstream.count('GET manifest')).toBe(0);
  });

  it('reads empty Basic credentials as none: an anonymous token at the token endpoint, a challenge on a pull', async () => {
    const empty = basic('', '');
    const jwt = await token(empty, `repository:${repo('3')}:pull`, `repository:${repo('1')}:pull`);
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as { sub: string; access: unknown[] };
    expect(claims).toMatchObject({ sub: '', access: [{ name: repo('3') }] });
    expect((await h.server.inject({ method: 'GET', url: manifestUrl('3'), headers: { authorization: empty } })).statusCode).toBe(200);
    const refused = await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: empty } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain(`scope="repository:${repo('1')}:pull"`);
    expect(verifications).toBe(0);
  });

  it('answers wrong credentials with 401 and never grants anything', async () => {
    const res = await h.server.inject({
      method: 'GET',
      url: `/v2/token?scope=repository:${repo('3')}:pull`,
      headers: { authorization: basic('alice', 'vregat_wrong') },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="vreg"');
    expect(res.json().errors[0].code).toBe('UNAUTHORIZED');
    expect(res.body).not.toContain('vregat_wrong');
    expect((await h.server.inject({ method: 'GET', url: '/v2/token', headers: { authorization: 'Bearer x' } })).statusCode).toBe(401);
  });

  it('throttles an address after repeated failures with 429 and Retry-After, without asking the catalog, while tokens already issued keep pulling', async () => {
    const jwt = await token(basic('bob', 'vregat_all'), `repository:${repo('1')}:pull`);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const res = await h.server.inject({
        method: 'GET',
        url: '/v2/token',
        remoteAddress: '10.0.0.66',
        headers: { authorization: basic(`user${i}`, `vregat_guess${i}`) },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
        expect(res.json().errors[0].code).toBe('TOOMANYREQUESTS');
      }
      expect(
        (
          await h.server.inject({
            method: 'GET',
            url: manifestUrl('1'),
            remoteAddress: '10.0.0.66',
            headers: { authorization: `Bearer ${jwt}` },
          })
        ).statusCode,
      ).toBe(200);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    expect(verifications).toBe(21);
    const elsewhere = await h.server.inject({
      method: 'GET',
      url: '/v2/token',
      remoteAddress: '10.0.0.7',
      headers: { authorization: basic('bob', 'vregat_all') },
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('lets no one lock a user out: failures under a name from other addresses never throttle the real user', async () => {
    for (let i = 0; i < 12; i += 1) {
      const res = await h.server.inject({
        method: 'GET',
        url: '/v2/token',
        remoteAddress: `10.1.0.${i}`,
        headers: { authorization: basic('Alice', `vregat_guess${i}`) },
      });
      expect(res.statusCode).toBe(401);
    }
    const alice = await h.server.inject({
      method: 'GET',
      url: '/v2/token',
      remoteAddress: '10.2.0.1',
      headers: { authorization: basic('alice', 'vregat_all') },
    });
    expect(alice.statusCode).toBe(200);
  });

  it('throttles one address failing under one name at the per-username burst, before its address allowance is spent', async () => {
    const from = (username: string, secret: string) =>
      h.server.inject({ method: 'GET', url: '/v2/token', remoteAddress: '10.3.0.1', headers: { authorization: basic(username, secret) } });
    for (let i = 0; i < 10; i += 1) expect((await from('ci', `vregat_revoked${i}`)).statusCode).toBe(401);
    expect((await from('ci', 'vregat_revoked')).statusCode).toBe(429);
    // The rest of that network (an office behind one NAT) still has attempts left under other names.
    expect((await from('bob', 'vregat_all')).statusCode).toBe(200);
  });

  it('counts every address of an IPv6 /64 as one client, whatever usernames it rotates through', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const res = await h.server.inject({
        method: 'GET',
        url: '/v2/token',
        remoteAddress: `2001:db8:7:7::${(i + 1).toString(16)}`,
        headers: { authorization: basic(`user${i}`, `vregat_guess${i}`) },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // Another /64 is another client.
    const other = await h.server.inject({
      method: 'GET',
      url: '/v2/token',
      remoteAddress: '2001:db8:7:8::1',
      headers: { authorization: basic('bob', 'vregat_all') },
    });
    expect(other.statusCode).toBe(200);
  });

  it('answers 503 when the catalog cannot verify, without counting it as a failure', async () => {
    catalogDown = true;
    for (let i = 0; i < 30; i += 1) {
      const res = await h.server.inject({ method: 'GET', url: '/v2/token', headers: { authorization: basic('bob', 'vregat_all') } });
      expect(res.statusCode).toBe(503);
    }
    catalogDown = false;
    expect(
      (await h.server.inject({ method: 'GET', url: '/v2/token', headers: { authorization: basic('bob', 'vregat_all') } })).statusCode,
    ).toBe(200);
  });

  it('speaks the OAuth2 POST form: password and refresh_token grants', async () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST' as const,
      url: '/v2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });
    const scope = `repository:${repo('1')}:pull repository:${repo('2')}:pull`;
    const res = await h.server.inject(
      form({ grant_type: 'password', username: 'bob', password: 'vregat_only1', service: 'vreg', client_id: 'podman', scope }),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: `repository:${repo('1')}:pull` });
    expect(
      (await h.server.inject({ method: 'GET', url: manifestUrl('1'), headers: { authorization: `Bearer ${res.json().access_token}` } }))
        .statusCode,
    ).toBe(200);
    const refresh = await h.server.inject(
      form({ grant_type: 'refresh_token', refresh_token: 'vregat_all', service: 'vreg', scope: `repository:${repo('2')}:pull` }),
    );
    expect(refresh.json().scope).toBe(`repository:${repo('2')}:pull`);
    expect((await h.server.inject(form({ grant_type: 'password', username: 'bob', password: 'nope' }))).statusCode).toBe(401);
    expect((await h.server.inject(form({ grant_type: 'client_credentials' }))).statusCode).toBe(400);
  });
});
