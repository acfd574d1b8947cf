import fc from 'fast-check';

/**
 * fast-check arbitraries of hostile input to vreg's HTTP APIs: path
 * traversal (`..`, encoded slashes and dots, NUL), names that break the OCI
 * grammar, overlong names, invalid digests and algorithms, odd unicode, and
 * garbage or duplicated headers. Shared by the unit fuzz tests (fastify
 * inject) and the integration fuzz test (real HTTP).
 */

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: min, maxLength: max });

/** Path pieces that try to climb out or hide a separator. */
export const traversal = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '..%2f',
  '%2f..%2f',
  '%2F',
  '%5c',
  '..%5c..',
  '%00',
  '%2500',
  '%252e%252e',
  '%c0%ae%c0%ae',
  '\u2025',
  '..;',
  '%2e',
  '.%2e',
  '%u002e',
  '..%2f..%2f..%2f..%2fetc%2fpasswd',
  '..%2F..%2Fsentinel',
  '....//',
  '..\\..\\',
  '%2e%2e%2f%2e%2e%2fsentinel',
);

/** A path segment: valid, hostile, unicode or overlong. */
export const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]{1,8}([._-][a-z0-9]{1,6})?$/) },
  { weight: 4, arbitrary: traversal },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'library',
      'alpine',
      'A',
      '_x',
      '-x',
      'x-',
      'a__b',
      'a..b',
      'a...b',
      'a---b',
      'x:y',
      'x@y',
      '~',
      '$',
      '{}',
      '%',
      '%zz',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => 'a'.repeat(n)) },
);

/** An image name of one to five segments. */
export const imageName = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

/** Digests: valid, wrong length, wrong case, unknown or malformed algorithms, traversal. */
export const digest = fc.oneof(
  hex(64, 64).map((h) => `sha256:${h}`),
  hex(0, 130).map((h) => `sha256:${h}`),
  hex(128, 128).map((h) => `sha512:${h}`),
  hex(32, 32).map((h) => `md5:${h}`),
  hex(64, 64).map((h) => `SHA256:${h}`),
  hex(64, 64).map((h) => `sha256:${h.toUpperCase()}`),
  hex(64, 64).map((h) => `sha256+b64u:${h}`),
  hex(64, 64).map((h) => `sha256:${h}%2f..`),
  fc.constantFrom(':', 'sha256:', 'sha256', ':abc', 'sha256::', 'sha256:../../x', 'sha256:%2e%2e', 'a'.repeat(600)),
  segment,
);

/** Manifest references: tags valid and not, and digests. */
export const reference = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/),
  fc.constantFrom('latest', '.hidden', '-x', 'a'.repeat(129), 'x'.repeat(4000)),
  digest,
  segment,
);

/** Registry ids: numbers, not numbers, huge, negative, encoded. */
export const registryId = fc.oneof(
  fc.integer({ min: 0, max: 20 }).map(String),
  fc.constantFrom('-1', '0', '01', '1e3', '0x1', '99999999999999999999999', 'abc', '%31', '..', '%2e%2e', ' 1', '1.0', '١'),
  segment,
);

/** Query strings for listings and the token endpoint. */
export const query = fc.oneof(
  fc.constant(''),
  fc
    .record({ n: fc.oneof(fc.integer({ min: -5, max: 100_000 }).map(String), printable), last: reference })
    .map(({ n, last }) => `?n=${encodeURIComponent(n)}&last=${encodeURIComponent(last)}`),
  fc
    .array(fc.tuple(fc.constantFrom('scope', 'service', 'account', 'n', 'last', 'artifactType', 'offline_token', 'client_id'), printable), {
      maxLength: 6,
    })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
);

/** A path under `/v2`, mostly shaped like a pull, sometimes anything. */
export const pullPath = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(registryId, imageName, reference)
      .map(([id, name, ref]) => `/v2/virtual_registries/containers/${id}/${name}/manifests/${ref}`),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(registryId, imageName, digest).map(([id, name, d]) => `/v2/virtual_registries/containers/${id}/${name}/blobs/${d}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(registryId, imageName, query)
      .map(([id, name, q]) => `/v2/virtual_registries/containers/${id}/${name}/tags/list${q}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(registryId, imageName, digest, query)
      .map(([id, name, d, q]) => `/v2/virtual_registries/containers/${id}/${name}/referrers/${d}${q}`),
  },
  { weight: 1, arbitrary: query.map((q) => `/v2/token${q}`) },
  { weight: 1, arbitrary: fc.array(segment, { maxLength: 8 }).map((s) => `/v2/${s.join('/')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/v2/',
      '/v2',
      '/v2//',
      '/v2/_catalog',
      '/v2/virtual_registries/containers/',
      '/v2/virtual_registries/containers/1/',
      '/v2/virtual_registries/containers/1//manifests/latest',
    ),
  },
);

const headerValue = fc.oneof(
  printable,
  fc.constantFrom(
    '',
    ' ',
    'bytes=0-10',
    'bytes=-5',
    'bytes=10-5',
    'bytes=0-1,2-3',
    'bytes=abc',
    'items=0-1',
    'bytes=99999999999999999999-',
    'Bearer ',
    'Bearer a.b.c',
    'Basic !!!',
    'Basic Og==',
    'Basic ' + Buffer.from('u:p').toString('base64'),
  ),
  fc.integer({ min: 1000, max: 12_000 }).map((n) => 'x'.repeat(n)),
);

/** Request headers: garbage or duplicated Accept, Range, Authorization and a few others. */
export const headers = fc.record(
  {
    accept: fc.oneof(
      headerValue,
      fc.array(headerValue, { minLength: 2, maxLength: 3 }),
      fc.constantFrom('application/vnd.oci.image.index.v1+json', '*/*', 'application/json;q=abc'),
    ),
    range: fc.oneof(headerValue, fc.array(headerValue, { minLength: 2, maxLength: 3 })),
    authorization: fc.oneof(headerValue, fc.array(headerValue, { minLength: 2, maxLength: 2 })),
    'x-forwarded-for': headerValue,
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x'),
    'if-none-match': headerValue,
  },
  { requiredKeys: [] },
);

/** Methods, the read-only ones mostly. */
export const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');

/** The OCI error codes a client may see from vreg's pull API. */
export const OCI_ERROR_CODES = new Set([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'RANGE_INVALID',
  'UNAVAILABLE',
]);
