import { createHash } from 'node:crypto';
import { AccessTokenVerifyRequestSchema, type RegistryView, Subjects, UnauthorizedError } from '@vreg/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../services/gateway/src/testing/gateway-harness.ts';
import { headers, method, OCI_ERROR_CODES, pullPath } from './support/bad-input-arbitraries.ts';
import { runFuzz } from './support/fuzz-record.ts';

// Fuzz of the pull API through fastify's inject (no sockets), seeded and
// bounded; its record goes to .vreg-test/results/fuzz-pull-api-inject.json
// (format in test/support/fuzz-record.ts: { suite, checked, cases, failures, seed, pass, ... }).

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'public', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
  { id: '2', name: 'private', visibility: 'private', upstreams: [{ id: '20', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
];

/** Why a response breaks the contract, or undefined when it keeps it. */
function contractBreach(m: string, res: { statusCode: number; body: string; headers: Record<string, unknown> }): string | undefined {
  if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 300)}`;
  if (res.statusCode < 400 || m === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `answered ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`;
  }
  const errors = (body as { errors?: Array<{ code?: unknown; message?: unknown }> }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return `answered ${res.statusCode} without an OCI errors array`;
  const [first] = errors;
  if (typeof first?.code !== 'string' || !OCI_ERROR_CODES.has(first.code))
    return `answered ${res.statusCode} with a code outside the OCI set: ${String(first?.code)}`;
  if (typeof first.message !== 'string') return 'an error without a message';
  return undefined;
}

describe('pull API fuzz (inject)', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  beforeAll(async () => {
    h = await gatewayHarness(registries, { VREG_PULL_RATE_LIMIT: '0' });
    // The catalog's token check, as the real one answers: one known token, UNAUTHORIZED for anything else.
    await h.bus.serve(Subjects.accessTokenVerify, AccessTokenVerifyRequestSchema, async ({ sealedToken }) => {
      if (h.secrets.open(sealedToken) !== 'p') throw new UnauthorizedError('the access token is not valid');
      return { tokenId: '1', name: 'fuzz', scopes: ['read_virtual_registry'] };
    });
    const blob = Buffer.from('fuzz layer');
    const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    h.upstream.addBlob(UP, 'library/alpine', blob);
    h.upstream.addManifest(
      UP,
      'library/alpine',
      'latest',
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{ digest: blobDigest }] }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
  });
  afterAll(async () => h?.close());

  it('answers every hostile request below 500 with an OCI error body, and stays up', async () => {
    const record = await runFuzz(
      'pull API (inject)',
      'status < 500 and, for 4xx, an OCI { errors: [{ code, message }] } body with a spec code; the server answers afterwards',
      fc.asyncProperty(method, pullPath, headers, async (m, url, hdrs) => {
        const res = await h.server.inject({ method: m as 'GET', url, headers: hdrs as Record<string, string> });
        const breach = contractBreach(m, res);
        if (breach !== undefined) throw new Error(`${m} ${url.slice(0, 300)}: ${breach}`);
      }),
      { seed: 90_001, numRuns: 3000 },
    );
    expect(record).toMatchObject({ cases: 3000, failures: 0 });
    const alive = await h.server.inject({ method: 'GET', url: '/v2/virtual_registries/containers/1/library/alpine/manifests/latest' });
    expect(alive.statusCode).toBe(200);
  }, 180_000);
});
