import { AccessTokenVerifyRequestSchema, type RegistryView, Subjects, UnauthorizedError } from '@vreg/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../services/gateway/src/testing/gateway-harness.ts';
import { OCI_ERROR_CODES, traversal } from './support/bad-input-arbitraries.ts';
import { runFuzz } from './support/fuzz-record.ts';
import { AttackClasses } from './support/security-record.ts';

// Fuzz of the token endpoint (GET and POST /v2/token) through fastify's
// inject, seeded and bounded: hostile scopes, services, credentials and
// forms. Besides the answer's shape it checks what a token grants: pull
// only, and only on registries the caller may read. Its record goes to
// .vreg-test/results/fuzz-token-endpoint-inject.json.

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'public', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
  { id: '2', name: 'private', visibility: 'private', upstreams: [{ id: '20', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
  {
    id: '3',
    name: 'private too',
    visibility: 'private',
    upstreams: [{ id: '30', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }],
  },
];
/** Access tokens the stand-in catalog knows: `all` reads every registry, `two` only registry 2, `admin` has no pull scope. */
const TOKENS: Record<string, { scopes: Array<'read_virtual_registry' | 'admin'>; registryIds?: string[] }> = {
  all: { scopes: ['read_virtual_registry'] },
  two: { scopes: ['read_virtual_registry'], registryIds: ['2'] },
  admin: { scopes: ['admin'] },
};
/** Registries each caller may read: public ones for everybody, more with a valid token (an unrestricted one any id: an unknown registry grants nothing to pull). */
const READABLE: Record<string, (id: string) => boolean> = {
  anonymous: (id) => id === '1',
  all: () => true,
  two: (id) => id === '1' || id === '2',
  admin: (id) => id === '1',
};

const repo = (id: string, image = 'library/alpine') => `virtual_registries/containers/${id}/${image}`;
const name = fc.oneof(
  fc.constantFrom('1', '2', '3', '4', '0', '01', '1 ', '-1', '%32', '2/../1').map((id) => repo(id)),
  fc
    .constantFrom('1', '2', '3')
    .chain((id) => fc.oneof(traversal, fc.constantFrom('a', 'A', 'a//b', '../2/x', '', 'x:y')).map((i) => repo(id, i))),
  fc.constantFrom('library/alpine', 'virtual_registries/containers/', 'virtual_registries/containers/2', '*', '', 'registry'),
  fc.string({ maxLength: 40 }),
);
const actions = fc.oneof(
  fc.constantFrom('pull', 'push', 'pull,push', 'push,pull', '*', 'delete', 'pull,pull', 'PULL', '', 'pull,'),
  fc.string({ maxLength: 10 }),
);
const scope = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.constantFrom('repository', 'repository', 'registry', 'Repository', ''), name, actions).map((p) => p.join(':')),
  },
  { weight: 1, arbitrary: fc.constantFrom('registry:catalog:*', 'repository', ':::', 'repository:a:b:c:pull', ' ', 'x'.repeat(5000)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);
const scopes = fc.array(scope, { maxLength: 4 });
const who = fc.constantFrom('anonymous', 'all', 'two', 'admin', 'wrong', 'malformed');
const username = fc.oneof(fc.constantFrom('me', '', 'admin', 'x'.repeat(300), 'ü', 'a:b'), fc.string({ maxLength: 20 }));

interface TokenRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** Whose credentials went out, if valid. */
  caller: string;
}

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

const getRequest = fc
  .record({
    who,
    username,
    scopes,
    service: fc.constantFrom('vreg', '', 'other', 'x'.repeat(500)),
    extra: fc.constantFrom('', '&account=me', '&offline_token=true', '&scope='),
  })
  .map(({ who: w, username: u, scopes: s, service, extra }): TokenRequest => {
    const query = new URLSearchParams([['service', service], ...s.map((x) => ['scope', x] as [string, string])]).toString();
    const headers: Record<string, string> = {};
    if (w === 'wrong') headers.authorization = basic(u, 'vregat_not-a-token');
    else if (w === 'malformed') headers.authorization = 'Basic !!!';
    else if (w !== 'anonymous') headers.authorization = basic(u, w);
    return { method: 'GET', url: `/v2/token?${query}${extra}`, headers, caller: w === 'wrong' || w === 'malformed' ? 'anonymous' : w };
  });

const postRequest = fc
  .record({
    who,
    username,
    scopes,
    grant: fc.constantFrom('password', 'refresh_token', 'client_credentials', '', 'PASSWORD'),
    contentType: fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      'application/json',
      'text/plain',
      '',
    ),
    pad: fc.constantFrom(0, 0, 0, 20_000),
  })
  .map(({ who: w, username: u, scopes: s, grant, contentType, pad }): TokenRequest => {
    const secret = w === 'wrong' ? 'vregat_not-a-token' : w === 'malformed' ? '' : w === 'anonymous' ? '' : w;
    const form = new URLSearchParams([
      ['grant_type', grant],
      ['username', u],
      [grant === 'refresh_token' ? 'refresh_token' : 'password', secret],
      ['service', 'vreg'],
      ['scope', s.join(' ')],
      ...(pad > 0 ? [['pad', 'x'.repeat(pad)] as [string, string]] : []),
    ]);
    const payload = contentType === 'application/json' ? JSON.stringify(Object.fromEntries(form)) : form.toString();
    const valid = (grant === 'password' || grant === 'refresh_token') && w in TOKENS;
    return {
      method: 'POST',
      url: '/v2/token',
      headers: contentType === '' ? {} : { 'content-type': contentType },
      payload,
      caller: valid ? w : 'anonymous',
    };
  });

/** Why an answer breaks the contract, or undefined. */
function breach(req: TokenRequest, res: { statusCode: number; body: string }): string | undefined {
  const where = `${req.method} ${req.url.slice(0, 200)} as ${req.caller}`;
  if (res.statusCode >= 500) return `${where} answered ${res.statusCode}: ${res.body.slice(0, 300)}`;
  let body: { token?: unknown; access_token?: unknown; errors?: Array<{ code?: unknown }> };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    return `${where} answered ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`;
  }
  if (res.statusCode >= 400) {
    const code = body.errors?.[0]?.code;
    return typeof code === 'string' && OCI_ERROR_CODES.has(code)
      ? undefined
      : `${where} answered ${res.statusCode} with code ${String(code)}`;
  }
  if (res.statusCode !== 200 || typeof body.token !== 'string' || body.token !== body.access_token)
    return `${where} answered ${res.statusCode} without a token`;
  const claims = JSON.parse(Buffer.from(body.token.split('.')[1] ?? '', 'base64url').toString()) as {
    access?: Array<{ type: string; name: string; actions: string[] }>;
  };
  for (const entry of claims.access ?? []) {
    if (entry.type !== 'repository' || entry.actions.join(',') !== 'pull') return `${where} was granted ${JSON.stringify(entry)}`;
    const id = /^virtual_registries\/containers\/([^/]+)\//.exec(entry.name)?.[1];
    if (id === undefined || !(READABLE[req.caller]?.(id) ?? false)) return `${where} was granted ${entry.name}`;
  }
  return undefined;
}

describe('token endpoint fuzz (inject)', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  beforeAll(async () => {
    // Failed logins are part of the fuzz: throttled, the rest would all be 429s.
    h = await gatewayHarness(registries, {
      VREG_PULL_RATE_LIMIT: '0',
      VREG_AUTH_FAILURES_PER_ADDRESS: '100000',
      VREG_AUTH_FAILURES_PER_USERNAME: '100000',
    });
    await h.bus.serve(Subjects.accessTokenVerify, AccessTokenVerifyRequestSchema, async ({ sealedToken }) => {
      const secret = h.secrets.open(sealedToken);
      const token = TOKENS[secret];
      if (token === undefined) throw new UnauthorizedError('the access token is not valid');
      return { tokenId: secret, name: secret, ...token };
    });
  });
  afterAll(async () => h?.close());

  it('answers every hostile token request below 500 and never grants more than pull on registries the caller may read', async () => {
    const record = await runFuzz(
      'token endpoint (inject)',
      'GET and POST /v2/token with hostile scopes (push, wildcards, traversing and malformed names, other resource types), services, Basic headers and forms: status < 500, OCI errors body on errors, and a token grants only pull, only on registries the caller may read (public ones anonymously or with wrong credentials; a restricted token its own)',
      fc.asyncProperty(fc.oneof(getRequest, postRequest), async (req) => {
        const res = await h.server.inject({
          method: req.method,
          url: req.url,
          headers: req.headers,
          ...(req.payload === undefined ? {} : { payload: req.payload }),
        });
        const why = breach(req, res);
        if (why !== undefined) throw new Error(why);
      }),
      { seed: 90_007, numRuns: 2500, attack: AttackClasses.scopeTricks },
    );
    expect(record).toMatchObject({ cases: 2500, failures: 0 });
    const alive = await h.server.inject({ method: 'GET', url: `/v2/token?service=vreg&scope=repository:${repo('1')}:pull` });
    expect(alive.statusCode).toBe(200);
  }, 120_000);
});
