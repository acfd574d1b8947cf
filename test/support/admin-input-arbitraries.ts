import fc from 'fast-check';
import { segment, traversal } from './bad-input-arbitraries.ts';

/**
 * fast-check arbitraries of hostile admin API (`/api/v1`) requests: odd and
 * traversing ids, wrongly typed, unicode and overlong fields, invalid JSON,
 * wrong content types, bad tokens, hostile upstream URLs. Shared by the
 * unit fuzz (inject) and the integration fuzz (real HTTP).
 */

/** The codes the admin API answers 4xx with (services/catalog/src/http/admin-error-handler.ts). */
export const ADMIN_ERROR_CODES = new Set([
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'DENIED',
  'NOT_FOUND',
  'NAME_UNKNOWN',
  'CONFLICT',
  'TOOMANYREQUESTS',
]);

const id = fc.oneof(
  fc.constantFrom('1', '2', '0', '-1', '1.5', '1e2', '99999999999999999999999999', '0x1', 'abc', '%31', ' 1', ''),
  traversal,
  segment,
);
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const longText = fc.integer({ min: 256, max: 20_000 }).map((n) => 'x'.repeat(n));
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), unicode, longText);
const upstreamUrl = fc.oneof(
  fc.constantFrom(
    'https://registry.invalid',
    'http://registry.invalid:5000/prefix/',
    'https://user:pass@registry.invalid',
    'https://registry.invalid/?q=1#f',
    'ftp://registry.invalid',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'http://',
    'http://[::1]',
    'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:5000',
    'http://0x7f.1',
    'http://2130706433',
    'http://[::ffff:10.0.0.1]',
    'http://10.0.0.1',
    'http://ü.invalid',
    'HTTP://REGISTRY.INVALID',
    'http://registry.invalid/%2e%2e/%2e%2e',
    'http://registry.invalid:99999',
    'http://registry.invalid:-1',
    ' http://registry.invalid',
    'http://reg istry.invalid',
  ),
  unicode,
  longText.map((x) => `https://registry.invalid/${x}`),
);
const registryBody = fc.record(
  {
    name: fc.oneof(unicode, longText, anyValue),
    description: fc.oneof(unicode, longText, fc.constant(null), anyValue),
    visibility: fc.oneof(fc.constantFrom('public', 'private', 'internal', ''), anyValue),
    extra: anyValue,
  },
  { requiredKeys: [] },
);
const upstreamBody = fc.record(
  {
    name: fc.oneof(unicode, longText, anyValue),
    url: fc.oneof(upstreamUrl, anyValue),
    username: fc.oneof(unicode, fc.constant(null), anyValue),
    password: fc.oneof(unicode, longText, fc.constant(null), anyValue),
    cache_validity_hours: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), anyValue),
    library_prefix: fc.oneof(fc.boolean(), anyValue),
    position: fc.oneof(fc.integer({ min: -5, max: 1_000_000_000 }), anyValue),
  },
  { requiredKeys: [] },
);
const tokenBody = fc.record(
  {
    name: fc.oneof(unicode, longText, anyValue),
    scopes: fc.oneof(fc.array(fc.constantFrom('read_virtual_registry', 'admin', 'write', ''), { maxLength: 4 }), anyValue),
    registry_ids: fc.oneof(fc.array(id, { maxLength: 4 }), anyValue),
    expires_at: fc.oneof(fc.constantFrom('2030-01-01T00:00:00Z', '1999-01-01', 'tomorrow', ''), anyValue),
  },
  { requiredKeys: [] },
);

const PEM_P256 =
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0TOCR1bnHmmN1ZyNvBgPA4vk8Kz3\nGgeB+5lnDuqdc6cnGxb/5B4r1eHCxC8VEKHGrjbTfEKvw1jbtE1D1D4R6w==\n-----END PUBLIC KEY-----\n';
const pem = fc.oneof(
  fc.constantFrom(
    PEM_P256,
    '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n',
    '-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n',
    '-----BEGIN PUBLIC KEY-----',
    '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
  ),
  unicode,
  longText,
);
const pattern = fc.oneof(fc.constantFrom('library/*', 'org/**', '**', 'a//b', '/x', 'x**', '***', 'UPPER', ''), unicode);
const pullPolicyBody = fc.record(
  {
    default_action: fc.oneof(fc.constantFrom('allow', 'deny', 'maybe'), anyValue),
    rules: fc.oneof(
      fc.array(
        fc.record(
          {
            name: fc.oneof(unicode, anyValue),
            action: fc.oneof(fc.constantFrom('allow', 'deny'), anyValue),
            image: fc.oneof(pattern, anyValue),
            tags: fc.oneof(fc.array(fc.oneof(fc.constantFrom('latest', '1.*', '*', 'a/b'), unicode), { maxLength: 3 }), anyValue),
            platforms: fc.oneof(fc.array(fc.constantFrom('linux/amd64', 'linux/arm64/v8', 'x', ''), { maxLength: 3 }), anyValue),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyValue,
    ),
    signatures: fc.oneof(
      fc.record(
        {
          mode: fc.oneof(fc.constantFrom('off', 'audit', 'enforce', 'strict'), anyValue),
          keys: fc.oneof(
            fc.array(fc.record({ name: fc.oneof(unicode, anyValue), pem: fc.oneof(pem, anyValue) }), { maxLength: 3 }),
            anyValue,
          ),
          scopes: fc.oneof(
            fc.array(fc.record({ image: pattern, mode: fc.constantFrom('off', 'enforce', 'x') }), { maxLength: 2 }),
            anyValue,
          ),
          keyless: fc.oneof(
            fc.constant(null),
            fc.record({
              trusted_root: fc.oneof(
                fc.jsonValue({ maxDepth: 4 }),
                unicode,
                fc.constantFrom('{}', '{"certificateAuthorities":[{}]}', '[]'),
              ),
              identities: fc.oneof(fc.array(fc.record({ subject: unicode, issuer: unicode }), { maxLength: 2 }), anyValue),
            }),
            anyValue,
          ),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);

/** A request as inject takes it: a route-shaped path and a body that is valid-ish, wrongly typed, not JSON or absent. */
const request = fc.oneof(
  fc.record({ method: fc.constantFrom('POST', 'PATCH'), path: fc.constant('/registries'), body: registryBody }),
  fc.record({
    method: fc.constantFrom('GET', 'PATCH', 'DELETE'),
    path: id.map((i) => `/registries/${i}`),
    body: fc.option(registryBody, { nil: undefined }),
  }),
  fc.record({ method: fc.constantFrom('GET', 'POST'), path: id.map((i) => `/registries/${i}/upstreams`), body: upstreamBody }),
  fc.record({
    method: fc.constantFrom('GET', 'PATCH', 'DELETE'),
    path: id.map((i) => `/upstreams/${i}`),
    body: fc.option(upstreamBody, { nil: undefined }),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.oneof(
      fc.constant('/upstreams/test'),
      id.map((i) => `/upstreams/${i}/test`),
    ),
    body: fc.option(upstreamBody, { nil: undefined }),
  }),
  fc.record({
    method: fc.constant('GET'),
    path: fc
      .tuple(id, fc.oneof(fc.integer({ min: -3, max: 2_000_000 }).map(String), unicode))
      .map(([i, p]) => `/upstreams/${i}/cache_entries?page=${encodeURIComponent(p)}&per_page=${encodeURIComponent(p)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    path: fc.oneof(
      fc.constant('/access_tokens'),
      id.map((i) => `/access_tokens/${i}`),
    ),
    body: fc.option(tokenBody, { nil: undefined }),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'PUT', 'DELETE'),
    path: id.map((i) => `/registries/${i}/pull_policy`),
    body: fc.option(pullPolicyBody, { nil: undefined }),
  }),
  fc.record({
    method: fc.constant('GET'),
    path: fc
      .tuple(id, fc.oneof(fc.integer({ min: -3, max: 2_000_000 }).map(String), unicode))
      .map(([i, p]) => `/registries/${i}/policy_denials?page=${encodeURIComponent(p)}&per_page=${encodeURIComponent(p)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant('GET'),
    path: fc.oneof(id, unicode).map((r) => `/policy_denials?registry_id=${encodeURIComponent(r)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS'),
    path: fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
    body: fc.option(anyValue, { nil: undefined }),
  }),
);
/** How the body goes out: JSON, raw text that is not JSON, or under a content type that is not JSON. */
const encoding = fc.constantFrom('json', 'json', 'json', 'broken-json', 'text', 'empty-json');

const authorization = (token: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${token}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'Bearer',
        `Bearer ${token}x`,
        `Basic ${Buffer.from(`a:${token}`).toString('base64')}`,
        `bearer ${token}`,
        'Bearer vreg_nope',
      ),
    },
  );

/** One admin request ready to send: method, path under `/api/v1`, headers and raw payload. */
export interface AdminFuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  payload: string | undefined;
  /** How the body was encoded, for failure messages. */
  how: string;
}

/** Hostile admin requests; most carry `token` as a bearer token, some a wrong one. */
export function adminRequest(token: string): fc.Arbitrary<AdminFuzzRequest> {
  return fc.tuple(request, encoding, authorization(token)).map(([{ method, path, body }, how, auth]) => {
    const headers: Record<string, string> = { authorization: auth };
    let payload: string | undefined;
    if (how === 'empty-json') {
      headers['content-type'] = 'application/json';
      payload = '';
    } else if (body !== undefined) {
      const json = JSON.stringify(body) ?? 'null';
      payload = how === 'broken-json' ? json.slice(0, Math.max(1, json.length - 1)) + '\u0000' : json;
      headers['content-type'] = how === 'text' ? 'text/plain' : 'application/json';
    }
    return { method, path, headers, payload, how };
  });
}

/** Why an admin answer breaks the contract (status < 500, documented code on 4xx), or undefined. */
export function adminContractBreach(req: AdminFuzzRequest, status: number, body: string): string | undefined {
  const where = `${req.method} ${req.path.slice(0, 200)} (${req.how})`;
  if (status >= 500) return `${where} answered ${status}: ${body.slice(0, 300)}`;
  if (status < 400) return undefined;
  let code: unknown;
  try {
    code = (JSON.parse(body) as { errors?: Array<{ code?: unknown }> }).errors?.[0]?.code;
  } catch {
    return `${where} answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`;
  }
  return typeof code === 'string' && ADMIN_ERROR_CODES.has(code) ? undefined : `${where} answered ${status} with ${body.slice(0, 300)}`;
}
