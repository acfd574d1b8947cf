import { createHash } from 'node:crypto';
import { Consumers, type PolicyDenied, PolicyDeniedSchema, type PullPolicy, type RegistryView, Streams, Subjects } from '@vreg/contracts';
import { cosignSignatureManifest, cosignFixtures as f } from '@vreg/policy/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const registry = (policy: PullPolicy): RegistryView => ({
  id: '1',
  name: 'one',
  upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }],
  policy,
});
const noSignatures: PullPolicy['signatures'] = { mode: 'off', keys: [] };
const pull = (path: string): string => `/v2/virtual_registries/containers/1/${path}`;

describe('the pull policy at the gateway', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  /** The policy.denied events published, once they stand for `count` refusals (bounded wait). */
  async function denials(count: number): Promise<PolicyDenied[]> {
    const seen: PolicyDenied[] = [];
    const sub = await h.bus.consume(
      { stream: Streams.policy.name, consumer: Consumers.catalogPolicy, subject: Subjects.policyDenied, schema: PolicyDeniedSchema },
      async ({ data }) => {
        seen.push(data);
      },
    );
    const deadline = Date.now() + 10_000;
    while (seen.reduce((n, d) => n + d.count, 0) < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    return seen;
  }

  it('refuses secret/* by tag and by digest, manifests, blobs and listings alike, without asking the upstream', async () => {
    h = await gatewayHarness(
      [registry({ defaultAction: 'allow', rules: [{ name: 'no-secrets', action: 'deny', image: 'secret/*' }], signatures: noSignatures })],
      {
        VREG_POLICY_DENIAL_FLUSH_MS: '100',
      },
    );
    const manifest = Buffer.from('{"schemaVersion":2}');
    const digest = h.upstream.addManifest(UP, 'secret/app', 'v1', manifest, OCI_MANIFEST);
    const blob = h.upstream.addBlob(UP, 'secret/app', Buffer.from('layer'));
    for (const [method, path] of [
      ['GET', 'secret/app/manifests/v1'],
      ['HEAD', 'secret/app/manifests/v1'],
      ['GET', `secret/app/manifests/${digest}`],
      ['GET', `secret/app/blobs/${blob}`],
      ['HEAD', `secret/app/blobs/${blob}`],
      ['GET', 'secret/app/tags/list'],
      ['GET', `secret/app/referrers/${digest}`],
    ] as const) {
      const res = await h.server.inject({ method, url: pull(path) });
      expect(res.statusCode, `${method} ${path}`).toBe(403);
      if (method === 'GET') {
        expect(res.json().errors[0].code).toBe('DENIED');
        expect(res.json().errors[0].message).toMatch(/refused by rule 1 "no-secrets" \(deny secret\/\*\)/);
      }
    }
    expect(h.upstream.count('')).toBe(0);
    const ok = await h.server.inject({ method: 'GET', url: pull('public/app/manifests/v1') });
    expect(ok.statusCode).toBe(404); // allowed through to the upstream, which has no such image
    const recorded = await denials(7);
    expect([...new Set(recorded.map((d) => `${d.kind} ${d.reference}`))].sort()).toEqual(
      [`blob ${blob}`, `manifest ${digest}`, 'manifest v1', `referrers ${digest}`, 'tags tags/list'].sort(),
    );
    // Identical refusals (a GET and a HEAD of one tag) are counted, not listed twice when they come together.
    const tagged = recorded.filter((d) => d.reference === 'v1');
    expect(tagged.reduce((n, d) => n + d.count, 0)).toBe(2);
    expect(tagged[0]).toMatchObject({ reason: 'rule', rule: { index: 1, name: 'no-secrets' }, client: 'anonymous', mode: 'enforce' });
  });

  describe('signature enforcement', () => {
    async function seedSigned(signatures: boolean): Promise<string> {
      const image = f.image();
      const digest = h.upstream.addManifest(UP, 'fixtures/app', 'v1', image.manifest, OCI_MANIFEST);
      h.upstream.addBlob(UP, 'fixtures/app', image.config);
      h.upstream.addBlob(UP, 'fixtures/app', image.layer);
      if (signatures) {
        const payload = f.payload('keyA');
        h.upstream.addBlob(UP, 'fixtures/app', payload);
        h.upstream.addManifest(
          UP,
          'fixtures/app',
          `${digest.replace(':', '-')}.sig`,
          cosignSignatureManifest([{ payload, signature: f.signature('keyA') }]),
          OCI_MANIFEST,
        );
      }
      return digest;
    }
    const enforce = (keys: Array<'keyA' | 'keyB'>): PullPolicy => ({
      defaultAction: 'allow',
      rules: [],
      signatures: { mode: 'enforce', keys: keys.map((k) => f.key(k)) },
    });

    it('serves a manifest a trusted key signed, and the next pull from the cache with no upstream request', async () => {
      h = await gatewayHarness([registry(enforce(['keyB', 'keyA']))]);
      const digest = await seedSigned(true);
      expect(digest).toBe(f.digest);
      const first = await h.server.inject({ method: 'GET', url: pull('fixtures/app/manifests/v1') });
      expect(first.statusCode).toBe(200);
      expect(sha(first.rawPayload)).toBe(f.digest);
      await h.recorded('fixtures/app/manifests/v1');
      const before = h.upstream.count('');
      const second = await h.server.inject({ method: 'GET', url: pull('fixtures/app/manifests/v1') });
      expect(second.statusCode).toBe(200);
      expect(second.headers['x-vreg-cache']).toBe('hit');
      const byDigest = await h.server.inject({ method: 'HEAD', url: pull(`fixtures/app/manifests/${f.digest}`) });
      expect(byDigest.statusCode).toBe(200);
      expect(h.upstream.count('')).toBe(before);
    });

    it('refuses an unsigned manifest and one signed by a key it does not trust, saying why', async () => {
      h = await gatewayHarness([registry(enforce(['keyB']))], { VREG_POLICY_DENIAL_FLUSH_MS: '100' });
      await seedSigned(true);
      const untrusted = await h.server.inject({ method: 'GET', url: pull('fixtures/app/manifests/v1') });
      expect(untrusted.statusCode).toBe(403);
      expect(untrusted.json().errors[0]).toMatchObject({
        code: 'DENIED',
        message: expect.stringMatching(/refused by signature enforcement: 1 signature found .* not signed by a trusted key/),
      });
      h.upstream.addManifest(UP, 'other/app', 'v1', Buffer.from('{"schemaVersion":2,"layers":[]}'), OCI_MANIFEST);
      const unsigned = await h.server.inject({ method: 'GET', url: pull('other/app/manifests/v1') });
      expect(unsigned.statusCode).toBe(403);
      expect(unsigned.json().errors[0].message).toMatch(/no cosign signature found/);
      expect((await denials(2)).map((d) => d.reason).sort()).toEqual(['unsigned', 'untrusted']);
    });

    it('serves in audit mode and records what it would have refused', async () => {
      h = await gatewayHarness([registry({ defaultAction: 'allow', rules: [], signatures: { mode: 'audit', keys: [f.key('keyB')] } })], {
        VREG_POLICY_DENIAL_FLUSH_MS: '100',
      });
      await seedSigned(false);
      const res = await h.server.inject({ method: 'GET', url: pull('fixtures/app/manifests/v1') });
      expect(res.statusCode).toBe(200);
      expect(await denials(1)).toEqual([expect.objectContaining({ mode: 'audit', reason: 'unsigned', digest: f.digest, reference: 'v1' })]);
    });

    it('applies a per-image mode: scopes before the registry mode', async () => {
      h = await gatewayHarness([
        registry({
          defaultAction: 'allow',
          rules: [],
          signatures: { mode: 'off', keys: [f.key('keyA')], scopes: [{ image: 'prod/**', mode: 'enforce' }] },
        }),
      ]);
      h.upstream.addManifest(UP, 'prod/app', 'v1', Buffer.from('{"schemaVersion":2,"layers":[]}'), OCI_MANIFEST);
      h.upstream.addManifest(UP, 'dev/app', 'v1', Buffer.from('{"schemaVersion":2,"layers":[]}'), OCI_MANIFEST);
      expect((await h.server.inject({ method: 'GET', url: pull('prod/app/manifests/v1') })).statusCode).toBe(403);
      expect((await h.server.inject({ method: 'GET', url: pull('dev/app/manifests/v1') })).statusCode).toBe(200);
    });
  });
});
