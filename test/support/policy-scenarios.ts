import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeKeylessPki, startTsa } from '@vreg/policy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VregUnderTest } from './pull-scenarios.ts';
import { Cosign, type PushedImage, pushIndex, pushLabelledImage, replaySignature } from './signed-images.ts';
import { hostOf, skopeoPull } from './skopeo.ts';
import { testEnv } from './test-env.ts';
import { ThrottledProxy } from './throttled-proxy.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A vreg under test with every gateway it runs (distributed: two, to cross replicas). */
export type PolicyVreg = VregUnderTest & { gatewayUrls: string[] };

interface Denial {
  registry_id: string;
  image: string;
  reference: string;
  kind: string;
  digest: string | null;
  mode: string;
  reason: string;
  rule: { index: number; name: string | null } | null;
  message: string;
  client: string;
  count: number;
}

/**
 * Pull policies with real clients and real signatures: images pushed to the
 * test upstream and signed there by real cosign (offline), pulled through
 * vreg by skopeo and podman, with a counting proxy between vreg and the
 * upstream to prove what a refusal or a hit costs.
 */
export function describePullPolicy(mode: string, start: () => Promise<PolicyVreg>): void {
  describe(`pull policy (${mode} mode)`, () => {
    const env = testEnv();
    const counted = new ThrottledProxy(env.upstreamA, 1 << 30);
    const prefix = `pp${randomBytes(3).toString('hex')}`;
    const upstreamHost = hostOf(env.upstreamA);
    let vreg: PolicyVreg;
    let cosign: Cosign;
    let enforceId: string;
    let auditId: string;
    const keys: Record<'keyA' | 'keyB' | 'keyEvil', string> = { keyA: '', keyB: '', keyEvil: '' };
    const images: Record<string, PushedImage> = {};
    let multiChildren: PushedImage[] = [];
    let upstreamUrl = '';

    const policyBody = (trusted: Array<'keyA' | 'keyB'>) => ({
      default_action: 'allow',
      rules: [{ name: 'no-secrets', action: 'deny', image: 'secret/*' }],
      signatures: { mode: 'enforce', keys: trusted.map((k) => ({ name: k, pem: keys[k] })) },
    });
    const path = (registryId: string, image: string, rest: string): string =>
      `/v2/virtual_registries/containers/${registryId}/${image}/${rest}`;
    const get = async (gateway: string, registryId: string, image: string, rest: string, method = 'GET') => {
      const res = await fetch(`${gateway}${path(registryId, image, rest)}`, { method, headers: { accept: ACCEPT } });
      const body = method === 'GET' ? await res.text() : '';
      return { status: res.status, body, digest: res.headers.get('docker-content-digest') };
    };
    const refusalOf = (body: string): { code: string; message: string } =>
      (JSON.parse(body) as { errors: Array<{ code: string; message: string }> }).errors[0]!;
    const denials = async (registryId: string): Promise<Denial[]> => {
      const res = await vreg.admin.call<Denial[]>('GET', `/registries/${registryId}/policy_denials?per_page=100`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const upstreamRequests = (): number => [...counted.counts.values()].reduce((a, b) => a + b, 0);
    const ref = (registryId: string, image: string): string =>
      `${hostOf(vreg.gatewayUrls[0]!)}/virtual_registries/containers/${registryId}/${image}`;

    beforeAll(async () => {
      cosign = await Cosign.create();
      for (const k of Object.keys(keys) as Array<keyof typeof keys>) keys[k] = await cosign.generateKey(k);
      const A = env.upstreamA;
      images.signed = await pushLabelledImage(A, `${prefix}/signed`, 'v1', `${prefix} signed`);
      images.rotated = await pushLabelledImage(A, `${prefix}/rotated`, 'v1', `${prefix} rotated`);
      images.unsigned = await pushLabelledImage(A, `${prefix}/unsigned`, 'v1', `${prefix} unsigned`);
      images.evil = await pushLabelledImage(A, `${prefix}/evil`, 'v1', `${prefix} evil`);
      images.replayed = await pushLabelledImage(A, `${prefix}/replayed`, 'v1', `${prefix} replayed`);
      images.secret = await pushLabelledImage(A, 'secret/app', 'v1', `secret app ${prefix}`);
      multiChildren = [
        await pushLabelledImage(A, `${prefix}/multi`, 'amd64', `${prefix} multi amd64`),
        await pushLabelledImage(A, `${prefix}/multi`, 'arm64', `${prefix} multi arm64`, { os: 'linux', architecture: 'arm64' }),
      ];
      images.multi = await pushIndex(A, `${prefix}/multi`, 'v1', [
        { ...multiChildren[0]!, platform: { os: 'linux', architecture: 'amd64' } },
        { ...multiChildren[1]!, platform: { os: 'linux', architecture: 'arm64' } },
      ]);
      await cosign.sign('keyA', `${upstreamHost}/${prefix}/signed@${images.signed.digest}`);
      await cosign.sign('keyB', `${upstreamHost}/${prefix}/rotated@${images.rotated.digest}`);
      await cosign.sign('keyEvil', `${upstreamHost}/${prefix}/evil@${images.evil.digest}`);
      // cosign's default: the index only, not its platform manifests.
      await cosign.sign('keyA', `${upstreamHost}/${prefix}/multi@${images.multi.digest}`);
      await replaySignature(A, `${prefix}/signed`, images.signed.digest, `${prefix}/replayed`, images.replayed.digest);

      vreg = await start();
      upstreamUrl = await counted.start();
      enforceId = (await vreg.admin.createRegistry(`enforce-${prefix}`)).id;
      await vreg.admin.addUpstream(enforceId, { name: 'counted-a', url: upstreamUrl });
      expect((await vreg.admin.call('PUT', `/registries/${enforceId}/pull_policy`, policyBody(['keyA', 'keyB']))).status).toBe(200);
      auditId = (await vreg.admin.createRegistry(`audit-${prefix}`)).id;
      await vreg.admin.addUpstream(auditId, { name: 'counted-a', url: upstreamUrl });
      const audit = { default_action: 'allow', rules: [], signatures: { mode: 'audit', keys: [{ name: 'keyA', pem: keys.keyA }] } };
      expect((await vreg.admin.call('PUT', `/registries/${auditId}/pull_policy`, audit)).status).toBe(200);
    });

    afterAll(async () => {
      await vreg?.stop();
      await counted.stop();
    });

    it('refuses an Ed25519 key when the policy is set, saying why', async () => {
      const ed = await run('sh', ['-c', 'openssl genpkey -algorithm ed25519 | openssl pkey -pubout']);
      const res = await vreg.admin.call<{ errors: Array<{ message: string }> }>('PUT', `/registries/${enforceId}/pull_policy`, {
        signatures: { mode: 'enforce', keys: [{ name: 'ed', pem: ed.stdout }] },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]!.message).toMatch(/Ed25519ph/);
    });

    it('lets skopeo and podman pull a signed image through an enforce registry, and cosign verify it through vreg', async () => {
      const dir = await skopeoPull(env.skopeo, `${ref(enforceId, `${prefix}/signed`)}:v1`);
      expect((await readdir(dir)).sort()).toEqual(
        expect.arrayContaining(['manifest.json', ...images.signed!.blobs.map((b) => b.slice(7))]),
      );
      const store = await mkdtemp(join(tmpdir(), 'podman-policy-'));
      const podman = (args: string[]) =>
        run('podman', ['--storage-driver=vfs', '--root', join(store, 'root'), '--runroot', join(store, 'run'), ...args], {
          timeout: 120_000,
        });
      await podman(['pull', '-q', '--tls-verify=false', `${ref(enforceId, `${prefix}/rotated`)}:v1`]);
      const digest = (
        await podman(['image', 'inspect', '--format', '{{.Digest}}', `${ref(enforceId, `${prefix}/rotated`)}:v1`])
      ).stdout.trim();
      expect(digest).toBe(images.rotated!.digest);
      // Verifiers read the signatures through the cache too: the .sig artifact is served unsigned.
      expect(await cosign.verify('keyA', `${ref(enforceId, `${prefix}/signed`)}@${images.signed!.digest}`)).toContain(
        images.signed!.digest,
      );
    });

    it('serves an enforce-mode hit with no upstream request', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      expect((await get(gateway, enforceId, `${prefix}/signed`, 'manifests/v1')).status).toBe(200);
      for (const blob of images.signed!.blobs)
        expect((await get(gateway, enforceId, `${prefix}/signed`, `blobs/${blob}`)).status).toBe(200);
      // The catalog has recorded what the pulls stored: the next pull is a pure hit.
      await waitFor('the first pull recorded', async () => {
        const before = upstreamRequests();
        await get(gateway, enforceId, `${prefix}/signed`, 'manifests/v1');
        return upstreamRequests() === before ? true : undefined;
      });
      const before = upstreamRequests();
      await skopeoPull(env.skopeo, `${hostOf(gateway)}/virtual_registries/containers/${enforceId}/${prefix}/signed:v1`);
      expect((await get(gateway, enforceId, `${prefix}/signed`, `manifests/${images.signed!.digest}`, 'HEAD')).status).toBe(200);
      expect(upstreamRequests()).toBe(before);
    });

    it('refuses an unsigned image, one signed by an untrusted key and one whose signature was made for another digest, and records each', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      for (const [name, reason, says] of [
        ['unsigned', 'unsigned', /no cosign signature found/],
        ['evil', 'untrusted', /not signed by a trusted key/],
        ['replayed', 'untrusted', new RegExp(`signed by keyA for ${images.signed!.digest}, not this digest`)],
      ] as const) {
        const res = await get(gateway, enforceId, `${prefix}/${name}`, 'manifests/v1');
        expect(res.status, name).toBe(403);
        expect(refusalOf(res.body)).toMatchObject({ code: 'DENIED', message: expect.stringMatching(says) });
        const byDigest = await get(gateway, enforceId, `${prefix}/${name}`, `manifests/${images[name]!.digest}`);
        expect(byDigest.status, `${name} by digest`).toBe(403);
        await expect(skopeoPull(env.skopeo, `${ref(enforceId, `${prefix}/${name}`)}:v1`)).rejects.toThrow(/denied|DENIED|403/i);
        const recorded = await waitFor(`the ${name} refusal recorded`, async () => {
          const found = (await denials(enforceId)).find((d) => d.image === `${prefix}/${name}`);
          return found;
        });
        expect(recorded).toMatchObject({ mode: 'enforce', reason, digest: images[name]!.digest, client: 'anonymous' });
      }
    });

    it('refuses secret/app by a rule denying secret/*, by tag and by digest, manifests and blobs alike, asking the upstream nothing', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      const before = [...counted.counts.keys()].filter((k) => k.includes('/secret/app/')).length;
      for (const rest of [
        'manifests/v1',
        `manifests/${images.secret!.digest}`,
        ...images.secret!.blobs.map((b) => `blobs/${b}`),
        'tags/list',
      ]) {
        const res = await get(gateway, enforceId, 'secret/app', rest);
        expect(res.status, rest).toBe(403);
        expect(refusalOf(res.body)).toMatchObject({
          code: 'DENIED',
          message: expect.stringContaining('refused by rule 1 "no-secrets" (deny secret/*)'),
        });
        expect((await get(gateway, enforceId, 'secret/app', rest, 'HEAD')).status, `HEAD ${rest}`).toBe(403);
      }
      await expect(skopeoPull(env.skopeo, `${ref(enforceId, 'secret/app')}:v1`)).rejects.toThrow(/denied|DENIED|403/i);
      expect([...counted.counts.keys()].filter((k) => k.includes('/secret/app/')).length).toBe(before);
      const recorded = await waitFor('the secret/app refusals recorded', async () => {
        const found = (await denials(enforceId)).filter((d) => d.image === 'secret/app');
        return new Set(found.map((d) => d.kind)).size >= 3 ? found : undefined;
      });
      expect(new Set(recorded.map((d) => d.kind))).toEqual(new Set(['manifest', 'blob', 'tags']));
      expect(recorded.every((d) => d.reason === 'rule' && d.rule?.name === 'no-secrets')).toBe(true);
    });

    it('finds signatures pushed as OCI 1.1 referrers and as sigstore bundles (the tag schema, the upstream has no referrers API)', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      for (const as of ['referrer', 'bundle'] as const) {
        const image = await pushLabelledImage(env.upstreamA, `${prefix}/${as}`, 'v1', `${prefix} ${as}`);
        await cosign.sign('keyA', `${upstreamHost}/${prefix}/${as}@${image.digest}`, { as });
        // cosign pushed no .sig tag: only a referrer, listed in the tag schema's index sha256-<hex>.
        expect(
          (await fetch(`${env.upstreamA}/v2/${prefix}/${as}/manifests/${image.digest.replace(':', '-')}.sig`, { method: 'HEAD' })).status,
        ).toBe(404);
        const res = await get(gateway, enforceId, `${prefix}/${as}`, 'manifests/v1');
        expect(res.status, `${as}: ${res.body}`).toBe(200);
        expect(res.digest).toBe(image.digest);
      }
    });

    it('serves in audit mode and records what it would have refused', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      const res = await get(gateway, auditId, `${prefix}/unsigned`, 'manifests/v1');
      expect(res.status).toBe(200);
      expect(res.digest).toBe(images.unsigned!.digest);
      await skopeoPull(env.skopeo, `${ref(auditId, `${prefix}/unsigned`)}:v1`);
      const recorded = await waitFor('the audit record', async () =>
        (await denials(auditId)).find((d) => d.image === `${prefix}/unsigned`),
      );
      expect(recorded).toMatchObject({ mode: 'audit', reason: 'unsigned', digest: images.unsigned!.digest });
      // A signed image makes no record.
      expect((await get(gateway, auditId, `${prefix}/signed`, 'manifests/v1')).status).toBe(200);
    });

    it('rotates keys: either of two trusted keys verifies, and removing one takes effect without a restart', async () => {
      const gateway = vreg.gatewayUrls[0]!;
      expect((await get(gateway, enforceId, `${prefix}/rotated`, 'manifests/v1')).status).toBe(200);
      expect((await get(gateway, enforceId, `${prefix}/signed`, 'manifests/v1')).status).toBe(200);
      expect((await vreg.admin.call('PUT', `/registries/${enforceId}/pull_policy`, policyBody(['keyA']))).status).toBe(200);
      // Every gateway drops the registry it cached; the cached manifest is now judged under the new key set.
      for (const gw of vreg.gatewayUrls) {
        await waitFor(`keyB's signature refused at ${gw}`, async () =>
          (await get(gw, enforceId, `${prefix}/rotated`, 'manifests/v1')).status === 403 ? true : undefined,
        );
        expect((await get(gw, enforceId, `${prefix}/signed`, 'manifests/v1')).status).toBe(200);
      }
      expect((await vreg.admin.call('PUT', `/registries/${enforceId}/pull_policy`, policyBody(['keyA', 'keyB']))).status).toBe(200);
      for (const gw of vreg.gatewayUrls) {
        await waitFor(`keyB trusted again at ${gw}`, async () =>
          (await get(gw, enforceId, `${prefix}/rotated`, 'manifests/v1')).status === 200 ? true : undefined,
        );
      }
    });

    it('passes a platform manifest through its signed index (cosign signs the index only), not on its own', async () => {
      const [first, second] = [vreg.gatewayUrls[0]!, vreg.gatewayUrls.at(-1)!];
      const child = multiChildren[0]!.digest;
      const alone = await get(second, enforceId, `${prefix}/multi`, `manifests/${child}`);
      expect(alone.status).toBe(403);
      expect(refusalOf(alone.body).message).toMatch(/no cosign signature found/);
      expect((await get(first, enforceId, `${prefix}/multi`, 'manifests/v1')).status).toBe(200);
      // The index was judged on the first gateway; the platform manifest is asked of the other (distributed mode).
      expect((await get(second, enforceId, `${prefix}/multi`, `manifests/${child}`)).status).toBe(200);
      const dir = await skopeoPull(env.skopeo, `${ref(enforceId, `${prefix}/multi`)}:v1`, { all: true });
      expect((await readdir(dir)).length).toBeGreaterThan(4);
    });

    it('fails the warm-up of a refused image with the reason, and leaves refused platforms out', async () => {
      const warmId = (await vreg.admin.createRegistry(`warm-${prefix}`)).id;
      await vreg.admin.addUpstream(warmId, { name: 'counted-a', url: upstreamUrl });
      const policy = {
        rules: [
          { name: 'no-secrets', action: 'deny', image: 'secret/*' },
          { name: 'no-arm', action: 'deny', image: '**', platforms: ['linux/arm64'] },
        ],
        signatures: { mode: 'enforce', keys: [{ name: 'keyA', pem: keys.keyA }] },
      };
      expect((await vreg.admin.call('PUT', `/registries/${warmId}/pull_policy`, policy)).status).toBe(200);
      type Job = { id: string; state: string; errors: string[]; result: { platforms: string[] } | null };
      const warm = async (body: object): Promise<Job> => {
        const res = await vreg.admin.call<Job>('POST', `/registries/${warmId}/warm`, body);
        expect(res.status).toBe(202);
        return waitFor(
          `warm ${JSON.stringify(body)}`,
          async () => {
            const job = (await vreg.admin.call<Job>('GET', `/jobs/${res.body.id}`)).body;
            return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
          },
          90_000,
          200,
        );
      };
      const secret = await warm({ image: 'secret/app', tag: 'v1' });
      expect(secret.state).toBe('failed');
      expect(secret.errors.join('\n')).toMatch(/refused by rule 1 "no-secrets" \(deny secret\/\*\).*POLICY_DENIED/);
      const unsigned = await warm({ image: `${prefix}/unsigned`, tag: 'v1' });
      expect(unsigned.state).toBe('failed');
      expect(unsigned.errors.join('\n')).toMatch(/refused by signature enforcement: no cosign signature found/);
      const arm = await warm({ image: `${prefix}/multi`, tag: 'v1', platforms: ['linux/arm64'] });
      expect(arm.state).toBe('failed');
      expect(arm.errors.join('\n')).toMatch(/refused by rule 2 "no-arm"/);
      const all = await warm({ image: `${prefix}/multi`, tag: 'v1' });
      expect(all.state, all.errors.join('\n')).toBe('succeeded');
      expect(all.result?.platforms).toEqual(['linux/amd64']);
      expect((await warm({ image: `${prefix}/signed`, tag: 'v1' })).state).toBe('succeeded');
      const recorded = await waitFor('the warm refusals recorded', async () => {
        const found = (await denials(warmId)).filter((d) => d.kind === 'warm');
        return found.length >= 3 ? found : undefined;
      });
      expect(recorded.map((d) => d.client)).toEqual(
        expect.arrayContaining([`warm-job:${secret.id}`, `warm-job:${unsigned.id}`, `warm-job:${arm.id}`]),
      );
    });

    it('enforces keyless signatures against an operator-supplied trusted root: a trusted identity passes, another is refused', async () => {
      const pki = await makeKeylessPki(await mkdtemp(join(tmpdir(), 'vreg-keyless-pki-')));
      const tsa = await startTsa(pki);
      try {
        const image = await pushLabelledImage(env.upstreamA, `${prefix}/keyless`, 'v1', `${prefix} keyless`);
        await cosign.importKey('leaf', pki.leafKey);
        await cosign.signWithCertificate(
          'leaf',
          { certificate: pki.leafCert, chain: pki.chain, tsaUrl: tsa.url },
          `${upstreamHost}/${prefix}/keyless@${image.digest}`,
        );
        const keylessId = (await vreg.admin.createRegistry(`keyless-${prefix}`)).id;
        await vreg.admin.addUpstream(keylessId, { name: 'counted-a', url: upstreamUrl });
        const policy = (subject: string) => ({
          signatures: {
            mode: 'enforce',
            keys: [],
            keyless: { trusted_root: JSON.parse(pki.trustedRoot), identities: [{ subject, issuer: pki.identity.issuer }] },
          },
        });
        expect((await vreg.admin.call('PUT', `/registries/${keylessId}/pull_policy`, policy('*@example.test'))).status).toBe(200);
        const dir = await skopeoPull(env.skopeo, `${ref(keylessId, `${prefix}/keyless`)}:v1`);
        expect(await readdir(dir)).toContain('manifest.json');
        // A key-signed image carries no certificate: keyless trust alone refuses it.
        expect((await get(vreg.gatewayUrls[0]!, keylessId, `${prefix}/signed`, 'manifests/v1')).status).toBe(403);
        expect((await vreg.admin.call('PUT', `/registries/${keylessId}/pull_policy`, policy('release@example.test'))).status).toBe(200);
        for (const gw of vreg.gatewayUrls) {
          const refused = await waitFor(`another identity refused at ${gw}`, async () => {
            const res = await get(gw, keylessId, `${prefix}/keyless`, 'manifests/v1');
            return res.status === 403 ? res : undefined;
          });
          expect(refusalOf(refused.body).message).toMatch(
            /signed by signer@example.test \(https:\/\/issuer.example.test\), not a trusted identity/,
          );
        }
      } finally {
        await tsa.stop();
      }
    });

    it('counts refusals in /metrics by registry, mode and reason', async () => {
      const lines = (await (await fetch(`${vreg.gatewayUrls[0]}/metrics`)).text()).split('\n');
      const total = (labels: string[]): number =>
        lines
          .filter((l) => l.startsWith('vreg_policy_denials_total{') && labels.every((label) => l.includes(label)))
          .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      expect(total([`registry="${enforceId}"`, 'mode="enforce"', 'reason="rule"'])).toBeGreaterThan(0);
      expect(total([`registry="${enforceId}"`, 'mode="enforce"', 'reason="untrusted"'])).toBeGreaterThan(0);
      expect(total([`registry="${auditId}"`, 'mode="audit"', 'reason="unsigned"'])).toBeGreaterThan(0);
    });
  });
}
