import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamErrorCode } from './errors.ts';
import type { UpstreamLogger } from './http-sender.ts';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import type { FakeHttpServer } from './testing/fake-http-server.ts';
import { sendJson, startFakeHttpServer } from './testing/fake-http-server.ts';
import { UpstreamAddressPolicy } from './upstream-address-policy.ts';

const PASSWORD = 'hunter2-s3cr3t-P@ss';
const TOKEN = 'tok-0123456789abcdef';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** A logger that keeps every call, to prove no secret reaches it. */
function recordingLogger(): UpstreamLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (fields: object, message?: string) => void lines.push(JSON.stringify({ fields, message }));
  return { lines, debug: log, warn: log };
}

let registry: FakeHttpServer;
let auth: FakeHttpServer;
let cdn: FakeHttpServer;
let logger: ReturnType<typeof recordingLogger>;
let client: HttpUpstreamRegistry;

beforeEach(async () => {
  [registry, auth, cdn] = await Promise.all([startFakeHttpServer(), startFakeHttpServer(), startFakeHttpServer()]);
  logger = recordingLogger();
  client = new HttpUpstreamRegistry({ logger, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
});
afterEach(async () => {
  await client.close();
  await Promise.all([registry.close(), auth.close(), cdn.close()]);
});

/** The registry wants `Bearer TOKEN`; the token service hands it out (to `alice:PASSWORD` only, when `requireUser`). */
function playBearer(ok: (req: IncomingMessage, res: ServerResponse) => void, requireUser = false) {
  registry.handle((req, res) => {
    if (req.headers.authorization === `Bearer ${TOKEN}`) return ok(req, res);
    const challenge = `Bearer realm="${auth.url}/token",service="fake.registry",scope="repository:team/app:pull,push"`;
    sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': challenge });
  });
  auth.handle((req, res) => {
    if (requireUser && req.headers.authorization !== basic('alice', PASSWORD)) return sendJson(res, 401, { details: 'bad credentials' });
    sendJson(res, 200, { token: TOKEN, expires_in: 300 });
  });
}

describe('bearer challenge', () => {
  it('fetches a token once and reuses it for the next request', async () => {
    playBearer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const t = { url: registry.url };
    for (let i = 0; i < 2; i++) {
      const res = await client.getManifest(t, 'team/app', 'v1');
      await res?.body.resume().toArray();
    }
    expect(auth.requests).toHaveLength(1);
    const tokenUrl = new URL(auth.requests[0]!.url, auth.url);
    expect(tokenUrl.searchParams.get('service')).toBe('fake.registry');
    expect(tokenUrl.searchParams.get('scope')).toBe('repository:team/app:pull');
    expect(auth.requests[0]?.headers.authorization).toBeUndefined(); // anonymous: no credentials configured
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('shares one token request between concurrent challenged requests', async () => {
    playBearer((_req, res) => void res.writeHead(200).end());
    auth.handle((_req, res) => void setTimeout(() => sendJson(res, 200, { token: TOKEN }), 50));
    const t = { url: registry.url };
    const heads = await Promise.all([1, 2, 3].map((i) => client.headBlob(t, 'team/app', `sha256:${String(i).repeat(64)}`)));
    expect(heads.every((h) => h !== undefined)).toBe(true);
    expect(auth.requests).toHaveLength(1);
  });

  it('sends Basic credentials to the realm and accepts access_token', async () => {
    registry.handle((req, res) => {
      if (req.headers.authorization === 'Bearer oauth-style') return void res.writeHead(200).end();
      sendJson(res, 401, {}, { 'www-authenticate': `bearer realm="${auth.url}/oauth2/token"` });
    });
    auth.handle((req, res) => {
      if (req.headers.authorization !== basic('alice', PASSWORD)) return sendJson(res, 401, {});
      sendJson(res, 200, { access_token: 'oauth-style' });
    });
    expect(await client.headBlob({ url: registry.url, username: 'alice', password: PASSWORD }, 'team/app', DIGEST)).toBeDefined();
  });

  it('does not share a token between different credentials for the same upstream', async () => {
    playBearer((_req, res) => void res.writeHead(200).end(), true);
    await client.headManifest({ url: registry.url, username: 'alice', password: PASSWORD }, 'team/app', 'v1');
    const wrong = await client
      .headManifest({ url: registry.url, username: 'alice', password: 'wrong' }, 'team/app', 'v1')
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: UpstreamErrorCode.AuthFailed, status: 401 });
    expect(auth.requests).toHaveLength(2);
  });

  it('fetches a new token once the cached one is about to expire', async () => {
    playBearer((_req, res) => void res.writeHead(200).end());
    // Cached for 3 s: long enough that a busy machine still makes the second request inside it.
    auth.handle((_req, res) => sendJson(res, 200, { token: TOKEN, expires_in: 4 }));
    await client.headManifest({ url: registry.url }, 'team/app', 'v1');
    await client.headManifest({ url: registry.url }, 'team/app', 'v1');
    await new Promise((resolve) => setTimeout(resolve, 3100));
    await client.headManifest({ url: registry.url }, 'team/app', 'v1');
    expect(auth.requests).toHaveLength(2);
  });

  it('keeps at most maxCachedTokens tokens, forgetting the least recently used first', async () => {
    const bounded = new HttpUpstreamRegistry({ logger, addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']), maxCachedTokens: 2 });
    try {
      registry.handle((req, res) => {
        if (req.headers.authorization === `Bearer ${TOKEN}`) return void res.writeHead(200).end();
        const image = /\/v2\/(.+)\/manifests\//.exec(req.url ?? '')?.[1] ?? '';
        sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="${auth.url}/token",scope="repository:${image}:pull"` });
      });
      auth.handle((_req, res) => sendJson(res, 200, { token: TOKEN, expires_in: 300 }));
      const t = { url: registry.url };
      for (const image of ['team/a', 'team/b', 'team/a', 'team/c', 'team/a', 'team/b']) await bounded.headManifest(t, image, 'v1');
      // a, b fetched; a reused; c evicts b; a reused; b fetched again.
      expect(auth.requests.map((r) => new URL(r.url, auth.url).searchParams.get('scope'))).toEqual([
        'repository:team/a:pull',
        'repository:team/b:pull',
        'repository:team/c:pull',
        'repository:team/b:pull',
      ]);
    } finally {
      await bounded.close();
    }
  });

  it('fetches a fresh token when the upstream rejects the cached one', async () => {
    let revoked = false;
    registry.handle((req, res) => {
      const good = revoked ? 'Bearer second' : 'Bearer first';
      if (req.headers.authorization === good) return void res.writeHead(200).end();
      sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="${auth.url}/token",service="s"` });
    });
    auth.handle((_req, res) => sendJson(res, 200, { token: revoked ? 'second' : 'first' }));
    const t = { url: registry.url };
    await client.headManifest(t, 'team/app', 'v1');
    revoked = true;
    expect(await client.headManifest(t, 'team/app', 'v1')).toBeDefined();
    expect(auth.requests).toHaveLength(2);
  });

  it('throws UPSTREAM_AUTH_FAILED when the new token is refused too', async () => {
    registry.handle((_req, res) => sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="${auth.url}/token"` }));
    auth.handle((_req, res) => sendJson(res, 200, { token: TOKEN }));
    await expect(client.getManifest({ url: registry.url }, 'team/app', 'v1')).rejects.toMatchObject({ code: UpstreamErrorCode.AuthFailed });
    expect(registry.requests).toHaveLength(2);
  });

  it('throws UPSTREAM_AUTH_FAILED on 403 after authenticating', async () => {
    playBearer((_req, res) => sendJson(res, 403, { errors: [{ code: 'DENIED' }] }));
    await expect(client.getBlob({ url: registry.url }, 'team/app', DIGEST)).rejects.toMatchObject({
      code: UpstreamErrorCode.AuthFailed,
      status: 403,
    });
  });
});

describe('basic challenge', () => {
  it('retries with Basic credentials, then sends them up front', async () => {
    registry.handle((req, res) => {
      if (req.headers.authorization === basic('alice', PASSWORD)) return void res.writeHead(200).end();
      sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="Registry Realm"' });
    });
    const t = { url: registry.url, username: 'alice', password: PASSWORD };
    expect(await client.headManifest(t, 'team/app', 'v1')).toBeDefined();
    expect(await client.headManifest(t, 'team/app', 'v2')).toBeDefined();
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, basic('alice', PASSWORD), basic('alice', PASSWORD)]);
  });

  it('throws UPSTREAM_AUTH_FAILED without sending anything when no credentials are configured', async () => {
    registry.handle((_req, res) => sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="r"' }));
    await expect(client.headManifest({ url: registry.url }, 'team/app', 'v1')).rejects.toMatchObject({
      code: UpstreamErrorCode.AuthFailed,
    });
    expect(registry.requests).toHaveLength(1);
  });
});

describe('redirects', () => {
  it('follows a blob redirect to another origin without the Authorization header', async () => {
    playBearer((_req, res) => res.writeHead(307, { location: `${cdn.url}/blobs/b?X-Amz-Signature=sig` }).end());
    cdn.handle((_req, res) => res.writeHead(200, { 'content-length': '4' }).end('blob'));
    const res = await client.getBlob({ url: registry.url, username: 'alice', password: PASSWORD }, 'team/app', DIGEST);
    expect((await res!.body.toArray()).join('')).toBe('blob');
    expect(registry.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
    expect(cdn.requests[0]?.url).toBe('/blobs/b?X-Amz-Signature=sig');
  });

  it('keeps the Authorization header on a relative redirect within the origin', async () => {
    playBearer((req, res) => {
      if (req.url?.startsWith('/v2/')) return void res.writeHead(302, { location: '/storage/blob' }).end();
      res.writeHead(200).end('ok');
    });
    const res = await client.getBlob({ url: registry.url }, 'team/app', DIGEST);
    await res?.body.toArray();
    expect(registry.requests.at(-1)).toMatchObject({ url: '/storage/blob', headers: { authorization: `Bearer ${TOKEN}` } });
  });

  it('throws UPSTREAM_UNAVAILABLE after too many redirects', async () => {
    registry.handle((_req, res) => void res.writeHead(307, { location: '/again' }).end());
    await expect(client.headBlob({ url: registry.url }, 'team/app', DIGEST)).rejects.toMatchObject({ code: UpstreamErrorCode.Unavailable });
    expect(registry.requests).toHaveLength(6);
  });
});

describe('secrets', () => {
  it('never puts the password or a token in error messages or logs', async () => {
    const t = { url: registry.url, username: 'alice', password: PASSWORD };
    const errors: unknown[] = [];
    const attempt = (p: Promise<unknown>) =>
      p.then(
        () => errors.push(new Error('expected a failure')),
        (e: unknown) => errors.push(e),
      );
    registry.handle((_req, res) => sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="${auth.url}/token"` }));
    auth.handle((_req, res) => sendJson(res, 401, { details: `wrong password ${PASSWORD}` }));
    await attempt(client.getManifest(t, 'team/app', 'v1'));
    auth.handle((_req, res) => sendJson(res, 200, { token: TOKEN }));
    await attempt(client.getManifest(t, 'team/app', 'v1'));
    auth.handle((_req, res) => res.writeHead(200).end(`{"token": "${TOKEN}", oops`));
    await attempt(client.getManifest(t, 'team/app', 'v2'));
    registry.handle((_req, res) => sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="r"' }));
    await attempt(client.getManifest({ ...t, url: `http://alice:${PASSWORD}@${registry.url.slice(7)}` }, 'team/app', 'v1'));
    await attempt(client.getManifest({ ...t, url: `not a url ${PASSWORD}` }, 'team/app', 'v1'));
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      UpstreamErrorCode.AuthFailed,
      UpstreamErrorCode.AuthFailed,
      UpstreamErrorCode.Unavailable,
      UpstreamErrorCode.AuthFailed,
      undefined, // TypeError: a caller bug
    ]);
    for (const err of errors) {
      const text = `${(err as Error).message} ${(err as Error).stack} ${JSON.stringify(err)} ${String((err as Error).cause)}`;
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
    }
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(TOKEN);
    }
  });

  it('accepts a pino logger', () => {
    const log: UpstreamLogger = pino({ level: 'silent' });
    expect(new HttpUpstreamRegistry({ logger: log })).toBeInstanceOf(HttpUpstreamRegistry);
  });
});
