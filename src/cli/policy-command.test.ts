import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { captureIo } from './testing/capture-io.ts';
import { FakeAdminApi } from './testing/fake-admin-api.ts';

const ENV = { VREG_URL: 'http://vreg.test:5000', VREG_TOKEN: 'admin-token', XDG_CONFIG_HOME: '/nonexistent-vreg-test' };
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';

async function vreg(api: FakeAdminApi, args: string[]) {
  const io = captureIo();
  const code = await runCli(args, ENV, io, api.fetch);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const stored = (patch: object = {}) => ({
  registry_id: '1',
  default_action: 'allow',
  rules: [{ name: 'no-secrets', action: 'deny', image: 'secret/*' }],
  signatures: {
    mode: 'enforce',
    keys: [{ name: 'release', pem: PEM, fingerprint: 'ab'.repeat(32) }],
    scopes: [],
    key_set_fingerprint: 'cd'.repeat(32),
  },
  created_at: '2030-01-01T00:00:00.000Z',
  updated_at: '2030-01-01T00:00:00.000Z',
  ...patch,
});
const noPolicy = {
  status: 404,
  body: { errors: [{ code: 'NOT_FOUND', message: 'registry has no pull policy', detail: { registryId: '1' } }] },
};
const echo =
  (status = 200) =>
  ({ method, body }: { method: string; body: unknown }) => ({ status, body: method === 'PUT' ? stored(body as object) : stored() });

describe('vreg policy', () => {
  it('shows a policy: rules numbered in order, keys with their fingerprints', async () => {
    const r = await vreg(new FakeAdminApi().on('GET /registries/1/pull_policy', { body: stored() }), ['policy', 'show', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('signatures: enforce');
    expect(r.out).toContain('release (abababababababab)');
    expect(r.out).toContain('1. deny secret/*  (no-secrets)');
  });

  it('says so when a registry has no policy', async () => {
    const r = await vreg(new FakeAdminApi().on('GET /registries/1/pull_policy', noPolicy), ['policy', 'show', '1']);
    expect(r.out).toBe('Registry 1 has no pull policy: every pull is allowed, no signature is checked.');
  });

  it('adds a rule at a position, keeping the rest of the policy', async () => {
    const api = new FakeAdminApi().on('GET /registries/1/pull_policy', { body: stored() }).on('PUT /registries/1/pull_policy', echo());
    const r = await vreg(api, [
      'policy',
      'rule',
      'add',
      '1',
      '--allow',
      'library/**',
      '--tag',
      '1.*',
      '--tag',
      'stable',
      '--name',
      'lib',
      '--position',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(api.requests[1]).toMatchObject({
      method: 'PUT',
      body: {
        default_action: 'allow',
        rules: [
          { name: 'lib', action: 'allow', image: 'library/**', tags: ['1.*', 'stable'] },
          { name: 'no-secrets', action: 'deny', image: 'secret/*' },
        ],
        signatures: { mode: 'enforce', keys: [{ name: 'release', pem: PEM }], scopes: [], keyless: null },
      },
    });
    expect(r.err).toContain('Rule added to registry 1: allow library/** tags 1.*, stable  (lib).');
  });

  it('starts from allow-everything when the registry has no policy yet', async () => {
    const api = new FakeAdminApi().on('GET /registries/1/pull_policy', noPolicy).on('PUT /registries/1/pull_policy', echo());
    expect((await vreg(api, ['policy', 'rule', 'add', '1', '--deny', 'secret/*'])).code).toBe(0);
    expect(api.requests[1]?.body).toEqual({
      default_action: 'allow',
      rules: [{ action: 'deny', image: 'secret/*' }],
      signatures: { mode: 'off', keys: [], scopes: [] },
    });
  });

  it('adds a key from a file and removes one by name; sets a mode per image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vreg-cli-key-'));
    await writeFile(join(dir, 'new.pub'), PEM);
    const api = new FakeAdminApi().on('GET /registries/1/pull_policy', { body: stored() }).on('PUT /registries/1/pull_policy', echo());
    expect((await vreg(api, ['policy', 'key', 'add', '1', 'next', join(dir, 'new.pub')])).code).toBe(0);
    expect((api.requests[1]?.body as { signatures: { keys: unknown[] } }).signatures.keys).toEqual([
      { name: 'release', pem: PEM },
      { name: 'next', pem: PEM },
    ]);
    expect((await vreg(api, ['policy', 'key', 'remove', '1', 'release'])).code).toBe(0);
    expect((api.requests[3]?.body as { signatures: { keys: unknown[] } }).signatures.keys).toEqual([]);
    const missing = await vreg(api, ['policy', 'key', 'remove', '1', 'nope']);
    expect(missing).toMatchObject({ code: 1, err: 'vreg: registry 1 trusts no key named nope' });
    expect((await vreg(api, ['policy', 'signatures', '1', 'audit', '--image', 'tools/**'])).code).toBe(0);
    expect((api.requests.at(-1)?.body as { signatures: { scopes: unknown[] } }).signatures.scopes).toEqual([
      { image: 'tools/**', mode: 'audit' },
    ]);
  });

  it("shows the server's refusal of a key, and refuses its own usage mistakes with exit code 2", async () => {
    const api = new FakeAdminApi().on('GET /registries/1/pull_policy', { body: stored() }).on('PUT /registries/1/pull_policy', {
      status: 400,
      body: { errors: [{ code: 'VALIDATION_FAILED', message: 'the pull policy is not usable: signatures.keys[1]: key "ed" is Ed25519' }] },
    });
    const dir = await mkdtemp(join(tmpdir(), 'vreg-cli-key-'));
    await writeFile(join(dir, 'ed.pub'), PEM);
    const refused = await vreg(api, ['policy', 'key', 'add', '1', 'ed', join(dir, 'ed.pub')]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is Ed25519');
    expect((await vreg(api, ['policy', 'rule', 'add', '1', 'secret/*'])).code).toBe(2);
    expect((await vreg(api, ['policy', 'signatures', '1', 'strict'])).code).toBe(2);
    expect((await vreg(api, ['policy', 'default', '1', 'maybe'])).code).toBe(2);
  });

  it('lists refused pulls newest first, naming the token, the rule and audit-only records', async () => {
    const denial = (patch: object) => ({
      registry_id: '1',
      image: 'secret/app',
      reference: 'latest',
      kind: 'manifest',
      digest: null,
      mode: 'enforce',
      reason: 'rule',
      rule: { index: 1, name: 'no-secrets' },
      message: 'refused',
      client: 'access-token:4',
      token_name: 'ci',
      count: 2,
      at: '2030-01-01T00:00:02.000Z',
      ...patch,
    });
    const api = new FakeAdminApi().on('GET /policy_denials', {
      body: [denial({}), denial({ mode: 'audit', reason: 'unsigned', rule: null, client: 'anonymous', token_name: null, count: 1 })],
      headers: { 'x-total': '5' },
    });
    const r = await vreg(api, ['policy', 'denials', '--limit', '2']);
    expect(r.code).toBe(0);
    expect(api.requests[0]?.query).toBe('?per_page=2');
    const [header, first, second] = r.out.split('\n');
    expect(header).toMatch(/^TIME\s+REGISTRY\s+IMAGE\s+REFERENCE\s+MODE\s+REASON\s+CLIENT\s+COUNT$/);
    expect(first).toMatch(/secret\/app\s+latest\s+refused\s+rule 1 no-secrets\s+ci\s+2$/);
    expect(second).toMatch(/audit\s+unsigned\s+anonymous\s+1$/);
    expect(r.err).toContain('2 of 5 shown');
    const one = new FakeAdminApi().on('GET /registries/3/policy_denials', { body: [] });
    expect((await vreg(one, ['policy', 'denials', '3'])).out).toBe('No refused pulls recorded for registry 3.');
  });
});
