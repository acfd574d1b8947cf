import { createHmac, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { TokenKeyRing } from '@vreg/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, getFrom, registryToken, SkopeoClient } from './auth-clients.ts';
import { copyImage, startTestRegistry, type TestRegistry } from './auth-registry.ts';
import { sha256 } from './http-get.ts';
import type { VregUnderTest } from './pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './security-record.ts';
import { hostOf, readPulledDir, skopeoPull } from './skopeo.ts';
import { testEnv } from './test-env.ts';
import { waitFor } from './wait.ts';

/** A running vreg whose logs and bus traffic the test can read afterwards. */
export interface AuthVregUnderTest extends VregUnderTest {
  /** Everything every service logged so far. */
  logs(): string;
  /** Everything that crossed the message bus so far; undefined where the bus is in process and cannot be tapped. */
  published(): string | undefined;
  /** The Ed25519 seed (hex) the gateways sign registry tokens with, to forge tokens a real key signed. */
  signingSeed: string;
}

const PRIVATE_IMAGE = { name: 'team/app/api', tag: '1.0' };
const SHARED_IMAGE = { name: 'library/busybox', tag: 'latest' };

/** One access token as the admin API creates it. */
interface CreatedToken {
  id: string;
  token: string;
}

/**
 * Access control end to end, through skopeo and plain HTTP against a real
 * vreg: docker-login tokens, private and public registries, revoked and
 * expired tokens, forged registry tokens, brute-force throttling, the
 * isolation of registries sharing one blob store, and secrets kept out of
 * logs and the bus.
 *
 * Upstreams: P, a distribution registry behind htpasswd Basic auth holding
 * the private image and the shared one; Q, an open one holding only the
 * shared image (same digests). Registry 1 (private) pulls through P with
 * the upstream password, registry 2 (private) and a public one through Q.
 */
export function describeAccessControl(mode: string, start: () => Promise<AuthVregUnderTest>): void {
  describe(`access control (${mode} mode)`, () => {
    const env = testEnv();
    let vreg: AuthVregUnderTest;
    let p: TestRegistry;
    let q: TestRegistry;
    let host: string;
    const ids = { private1: '', private2: '', public: '' };
    let onlyRegistry1: CreatedToken;
    const secrets: string[] = [];
    const direct = new Map<string, Map<string, Buffer>>();

    const ref = (registryId: string, image: { name: string; tag: string }) =>
      `${host}/virtual_registries/containers/${registryId}/${image.name}:${image.tag}`;
    const repo = (registryId: string, name: string) => `virtual_registries/containers/${registryId}/${name}`;

    async function createToken(body: Record<string, unknown>): Promise<CreatedToken> {
      const res = await vreg.admin.call<CreatedToken>('POST', '/access_tokens', body);
      if (res.status !== 201) throw new Error(`create token: ${res.status} ${JSON.stringify(res.body)}`);
      secrets.push(res.body.token);
      return res.body;
    }

    beforeAll(async () => {
      for (const image of [PRIVATE_IMAGE, SHARED_IMAGE]) {
        direct.set(image.name, await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/${image.name}:${image.tag}`)));
      }
      p = await startTestRegistry({ auth: true });
      q = await startTestRegistry();
      const creds = p.credentials!;
      secrets.push(creds.password);
      for (const image of [PRIVATE_IMAGE, SHARED_IMAGE]) {
        await copyImage(
          env.skopeo,
          `${hostOf(env.upstreamA)}/${image.name}:${image.tag}`,
          `${hostOf(p.url)}/${image.name}:${image.tag}`,
          creds,
        );
      }
      await copyImage(
        env.skopeo,
        `${hostOf(env.upstreamA)}/${SHARED_IMAGE.name}:${SHARED_IMAGE.tag}`,
        `${hostOf(q.url)}/${SHARED_IMAGE.name}:${SHARED_IMAGE.tag}`,
      );

      vreg = await start();
      host = hostOf(vreg.gatewayUrl);
      ids.private1 = (await vreg.admin.createRegistry(`private-p-${mode}`, { visibility: 'private' })).id;
      await vreg.admin.addUpstream(ids.private1, { name: 'p', url: p.url, username: creds.username, password: creds.password });
      ids.private2 = (await vreg.admin.createRegistry(`private-q-${mode}`, { visibility: 'private' })).id;
      await vreg.admin.addUpstream(ids.private2, { name: 'q', url: q.url });
      ids.public = (await vreg.admin.createRegistry(`public-q-${mode}`, { visibility: 'public' })).id;
      await vreg.admin.addUpstream(ids.public, { name: 'q', url: q.url });
      onlyRegistry1 = await createToken({ name: 'only registry 1', scopes: ['read_virtual_registry'], registry_ids: [ids.private1] });
    });

    afterAll(async () => {
      await vreg?.stop();
      await p?.destroy();
      await q?.destroy();
    });

    it('answers a pull without credentials with 401 and the token spec challenge', async () => {
      const res = await fetch(`${vreg.gatewayUrl}/v2/${repo(ids.private1, PRIVATE_IMAGE.name)}/manifests/${PRIVATE_IMAGE.tag}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="http://${host}/v2/token",service="vreg",scope="repository:${repo(ids.private1, PRIVATE_IMAGE.name)}:pull"`,
      );
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAUTHORIZED');
      const anonymous = await (await SkopeoClient.create(env.skopeo)).pullAnonymously(ref(ids.private1, PRIVATE_IMAGE));
      expect(anonymous.ok).toBe(false);
      expect(anonymous.stderr).toMatch(/unauthorized|authentication required|401/i);
    });

    it('pulls a private registry after skopeo login with a valid access token, byte-identical to the upstream', async () => {
      const alice = await SkopeoClient.create(env.skopeo);
      const login = await alice.login(host, 'alice', onlyRegistry1.token);
      expect(login.ok, login.stderr).toBe(true);
      const pulled = await alice.pull(ref(ids.private1, PRIVATE_IMAGE));
      expect(pulled.ok, pulled.stderr).toBe(true);
      const files = await readPulledDir(pulled.dir);
      for (const [file, bytes] of direct.get(PRIVATE_IMAGE.name)!) expect(sha256(files.get(file)!), file).toBe(sha256(bytes));
      const shared = await alice.pull(ref(ids.private1, SHARED_IMAGE));
      expect(shared.ok, shared.stderr).toBe(true);
    });

    it('refuses a token limited to registry 1 on registry 2 with DENIED', async () => {
      const tally = recordAttacks(
        AttackClasses.scopeTricks,
        `a token limited to registry 1 pulls registry 2 (${mode})`,
        'test/support/auth-scenarios.ts',
      );
      const alice = await SkopeoClient.create(env.skopeo);
      expect((await alice.login(host, 'alice', onlyRegistry1.token)).ok).toBe(true);
      const refused = await alice.pull(ref(ids.private2, SHARED_IMAGE));
      tally.tried();
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toMatch(/denied/i);
      const { token } = await registryToken(
        vreg.gatewayUrl,
        [`repository:${repo(ids.private2, SHARED_IMAGE.name)}:pull`],
        basic('alice', onlyRegistry1.token),
      );
      const res = await fetch(`${vreg.gatewayUrl}/v2/${repo(ids.private2, SHARED_IMAGE.name)}/manifests/${SHARED_IMAGE.tag}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      tally.tried();
      expect(res.status).toBe(403);
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('DENIED');
    });

    it('refuses a revoked token and an expired one with 401', async () => {
      const revoked = await createToken({ name: 'revoked', scopes: ['read_virtual_registry'] });
      expect((await registryToken(vreg.gatewayUrl, [], basic('bob', revoked.token))).status).toBe(200);
      expect((await vreg.admin.call('DELETE', `/access_tokens/${revoked.id}`)).status).toBe(204);
      expect((await registryToken(vreg.gatewayUrl, [], basic('bob', revoked.token))).status).toBe(401);
      const bob = await SkopeoClient.create(env.skopeo);
      const login = await bob.login(host, 'bob', revoked.token);
      expect(login.ok).toBe(false);
      expect(login.stderr).toMatch(/401|unauthorized|invalid username\/password/i);

      // Long enough that a busy machine still makes the first request inside the token's life.
      const expiresAt = Date.now() + 6000;
      const expiring = await createToken({
        name: 'expiring',
        scopes: ['read_virtual_registry'],
        expires_at: new Date(expiresAt).toISOString(),
      });
      expect((await registryToken(vreg.gatewayUrl, [], basic('carol', expiring.token))).status).toBe(200);
      // Until past the expiry: a slow machine only waits longer.
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 500));
      expect((await registryToken(vreg.gatewayUrl, [], basic('carol', expiring.token))).status).toBe(401);
      const carol = await SkopeoClient.create(env.skopeo);
      expect((await carol.login(host, 'carol', expiring.token)).ok).toBe(false);
    });

    it('pulls a public registry anonymously, with no login at all', async () => {
      const pulled = await (await SkopeoClient.create(env.skopeo)).pullAnonymously(ref(ids.public, SHARED_IMAGE));
      expect(pulled.ok, pulled.stderr).toBe(true);
      const files = await readPulledDir(pulled.dir);
      for (const [file, bytes] of direct.get(SHARED_IMAGE.name)!) expect(sha256(files.get(file)!), file).toBe(sha256(bytes));
    });

    it('refuses every forged or out-of-date registry token with one generic 401, and logs why without the token', async () => {
      const tally = recordAttacks(
        AttackClasses.forgedJwts,
        `registry tokens forged, altered, re-keyed or out of date (${mode})`,
        'test/support/auth-scenarios.ts',
      );
      const scope = `repository:${repo(ids.private1, PRIVATE_IMAGE.name)}:pull`;
      const { token } = await registryToken(vreg.gatewayUrl, [scope], basic('alice', onlyRegistry1.token));
      const url = (registryId: string) => `${vreg.gatewayUrl}/v2/${repo(registryId, PRIVATE_IMAGE.name)}/manifests/${PRIVATE_IMAGE.tag}`;
      expect((await fetch(url(ids.private1), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const [header, payload, signature] = token!.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown> & {
        access: Array<{ name: string }>;
        exp: number;
      };
      const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
      const widened = { ...claims, access: [{ ...claims.access[0], name: repo(ids.private2, PRIVATE_IMAGE.name) }] };
      const realKey = await TokenKeyRing.parse(vreg.signingSeed);
      const realPrivate = createPrivateKey({
        key: Buffer.from(vreg.signingSeed, 'hex'),
        format: 'raw-private',
        asymmetricKeyType: 'ed25519',
      });
      const signedByRealKey = (h: Record<string, unknown>, p: Record<string, unknown>) => {
        const input = `${b64(h)}.${b64(p)}`;
        return `${input}.${sign(null, Buffer.from(input), realPrivate).toString('base64url')}`;
      };
      const publicPem = createPublicKey(realPrivate).export({ format: 'pem', type: 'spki' });
      const hsInput = `${b64({ alg: 'HS256', kid, typ: 'JWT' })}.${b64(widened)}`;
      const strangerRing = await TokenKeyRing.fromSeeds([randomBytes(32)]);
      const stranger = await strangerRing.sign(widened);
      const strangerKid = strangerRing.signingKid;
      const now = Math.floor(Date.now() / 1000);
      const forged: Array<[string, string]> = [
        ['altered claims', `${header}.${b64(widened)}.${signature}`],
        ['unknown key', stranger],
        ['unknown key under a known kid', `${header}.${stranger.split('.')[1]}.${stranger.split('.')[2]}`],
        ['alg none', `${b64({ alg: 'none', kid, typ: 'JWT' })}.${b64(widened)}.`],
        ['HS256 keyed with the public key', `${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`],
        ['swapped kid', signedByRealKey({ alg: 'EdDSA', kid: strangerKid, typ: 'JWT' }, claims)],
        ['expired', await realKey.sign({ ...claims, iat: now - 600, nbf: now - 600, exp: now - 1 })],
        ['not yet valid', await realKey.sign({ ...claims, iat: now + 600, nbf: now + 600, exp: now + 900 })],
        ['another audience', await realKey.sign({ ...claims, aud: 'another-service' })],
        ['another issuer', await realKey.sign({ ...claims, iss: 'mallory' })],
        ['a crit header', signedByRealKey({ alg: 'EdDSA', kid, typ: 'JWT', crit: ['vreg'], vreg: 1 }, claims)],
        ['a header that is not JSON', `${Buffer.from('{"alg":"EdDSA",').toString('base64url')}.${payload}.${signature}`],
      ];
      for (const [name, bad] of forged) {
        const res = await fetch(url(name === 'altered claims' ? ids.private2 : ids.private1), {
          headers: { authorization: `Bearer ${bad}` },
        });
        tally.tried();
        expect(res.status, name).toBe(401);
        expect(res.headers.get('www-authenticate'), name).toContain('error="invalid_token"');
        // One message for every refusal: which check failed would only help the forger.
        expect(await res.json(), name).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'the registry token is not valid' }] });
      }
      // Longer than any token vreg issues: refused before anything is decoded (or by the header limit).
      const oversized = await realKey.sign({ ...claims, pad: 'p'.repeat(15_000) });
      tally.tried();
      expect([401, 431]).toContain((await fetch(url(ids.private1), { headers: { authorization: `Bearer ${oversized}` } })).status);
      const logs = vreg.logs();
      const reasons = new Set(
        logs
          .split('\n')
          .filter((line) => line.includes('registry token refused'))
          .map((line) => (JSON.parse(line.slice(line.indexOf('{'))) as { reason?: string }).reason),
      );
      for (const reason of ['bad signature', 'unknown kid', 'unsupported alg', 'expired', 'not yet valid', 'audience', 'issuer'])
        expect(reasons, reason).toContain(reason);
      for (const [name, bad] of forged) expect(logs.includes(bad), `the ${name} token in the logs`).toBe(false);
    });

    it('serves what registry 1 cached to a public registry only when its own upstream has it, also for a digest both ask for', async () => {
      // Registry 1 (private, upstream P) pulled both images above: every blob is in the shared store now.
      const stored = await vreg.storedDigests();
      const privateFiles = direct.get(PRIVATE_IMAGE.name)!;
      const privateDigests = [...privateFiles.keys()]
        .filter((f) => f !== 'manifest.json')
        .map((f) => `sha256:${f.replace(/^sha256-/, '').replace(/\.manifest\.json$/, '')}`);
      const privateManifest = sha256(privateFiles.get('manifest.json')!);
      for (const d of [...privateDigests, privateManifest]) expect(stored).toContain(d);

      // A fresh public registry, whose upstream (Q) never saw the private image.
      const publicId = (await vreg.admin.createRegistry(`isolation-${mode}`, { visibility: 'public' })).id;
      const qUpstream = await vreg.admin.addUpstream(publicId, { name: 'q', url: q.url });
      const base = `${vreg.gatewayUrl}/v2/${repo(publicId, PRIVATE_IMAGE.name)}`;
      for (const url of [
        `${base}/manifests/${PRIVATE_IMAGE.tag}`,
        `${base}/manifests/${privateManifest}`,
        ...privateDigests.map((d) => `${base}/blobs/${d}`),
      ]) {
        for (const method of ['GET', 'HEAD']) {
          const res = await fetch(url, { method });
          expect({ url, method, status: res.status }).toEqual({ url, method, status: 404 });
        }
      }

      // The shared image's largest blob: registry 1's client asked for it; now a client of the public registry does.
      const [layerFile, layer] = [...direct.get(SHARED_IMAGE.name)!]
        .filter(([f]) => f !== 'manifest.json')
        .sort((x, y) => y[1].length - x[1].length)[0]!;
      const shared = `sha256:${layerFile.replace(/^sha256-/, '')}`;
      expect(stored).toContain(shared);
      const sharedUrl = `${vreg.gatewayUrl}/v2/${repo(publicId, SHARED_IMAGE.name)}/blobs/${shared}`;
      await q.stop();
      try {
        const whileDown = await fetch(sharedUrl);
        expect(whileDown.status).not.toBe(200);
        expect(whileDown.status).toBeGreaterThanOrEqual(500);
      } finally {
        await q.start();
      }
      expect(await vreg.admin.cacheEntries(qUpstream.id)).toEqual([]);
      const served = await fetch(sharedUrl);
      expect(served.status).toBe(200);
      expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(sha256(layer));
      await waitFor('the shared blob recorded under the public registry’s own upstream', async () =>
        (await vreg.admin.cacheEntries(qUpstream.id)).some((e) => e.relative_path === `${SHARED_IMAGE.name}/blobs/${shared}`)
          ? true
          : undefined,
      );
    });

    it('throttles 200 wrong-password attempts from one address while a valid client keeps pulling', async () => {
      const tally = recordAttacks(
        AttackClasses.bruteForce,
        `200 wrong passwords at the token endpoint from one address (${mode})`,
        'test/support/auth-scenarios.ts',
      );
      const tokenUrl = `${vreg.gatewayUrl}/v2/token?service=vreg&scope=repository:${repo(ids.private1, PRIVATE_IMAGE.name)}:pull`;
      const attacker = (async () => {
        const statuses: number[] = [];
        const retryAfter: string[] = [];
        for (let i = 0; i < 200; i += 1) {
          const guess = `vregat_${randomBytes(32).toString('base64url')}`;
          const res = await getFrom('127.0.0.2', tokenUrl, { authorization: basic('mallory', guess) });
          tally.tried();
          statuses.push(res.status);
          if (res.status === 429) retryAfter.push(String(res.headers['retry-after']));
        }
        return { statuses, retryAfter };
      })();
      const valid = (async () => {
        const statuses: number[] = [];
        const alice = await SkopeoClient.create(env.skopeo);
        const login = await alice.login(host, 'alice', onlyRegistry1.token);
        statuses.push(login.ok ? 200 : 401);
        for (let i = 0; i < 3; i += 1) {
          const pulled = await alice.pull(ref(ids.private1, PRIVATE_IMAGE));
          statuses.push(pulled.ok ? 200 : 0);
          const { status, token } = await registryToken(
            vreg.gatewayUrl,
            [`repository:${repo(ids.private1, PRIVATE_IMAGE.name)}:pull`],
            basic('alice', onlyRegistry1.token),
          );
          statuses.push(status);
          const manifest = await fetch(`${vreg.gatewayUrl}/v2/${repo(ids.private1, PRIVATE_IMAGE.name)}/manifests/${PRIVATE_IMAGE.tag}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          statuses.push(manifest.status);
        }
        return statuses;
      })();
      const [attack, good] = await Promise.all([attacker, valid]);
      expect(attack.statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(attack.statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
      expect(attack.statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(180);
      expect(attack.statuses.slice(-50).every((s) => s === 429)).toBe(true);
      expect(attack.retryAfter.every((v) => /^[1-9][0-9]*$/.test(v))).toBe(true);
      expect(good.every((s) => s === 200)).toBe(true);
      expect(good).toHaveLength(10);
    });

    it('keeps upstream passwords and access tokens out of every log line, bus message and API answer', async () => {
      const tally = recordAttacks(
        AttackClasses.secretLeaks,
        `secrets searched in logs, bus messages and API answers (${mode})`,
        'test/support/auth-scenarios.ts',
      );
      const upstreams = await vreg.admin.call<Array<Record<string, unknown>>>('GET', `/registries/${ids.private1}/upstreams`);
      expect(upstreams.body[0]).toMatchObject({ username: p.credentials!.username, has_password: true });
      const tokens = await vreg.admin.call('GET', '/access_tokens?per_page=100');
      const logs = vreg.logs();
      const published = vreg.published() ?? '';
      expect(logs).toContain('registry token issued');
      // Where the bus can be tapped, the tap saw the token checks (sealed) go by.
      if (vreg.published() !== undefined) expect(published).toContain('vreg.catalog.access_token.verify');
      expect(secrets.length).toBeGreaterThanOrEqual(4);
      for (const secret of secrets) {
        tally.tried(4);
        expect(JSON.stringify(upstreams.body).includes(secret)).toBe(false);
        expect(JSON.stringify(tokens.body).includes(secret)).toBe(false);
        expect(logs.includes(secret), 'a secret in the logs').toBe(false);
        expect(published.includes(secret), 'a secret on the bus').toBe(false);
      }
    });
  });
}
