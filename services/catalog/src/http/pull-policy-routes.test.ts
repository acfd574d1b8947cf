import { randomUUID } from 'node:crypto';
import { cosignFixtures as f } from '@vreg/policy/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryResolveResponder } from '../responders/registry-resolve-responder.ts';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
  expect((await api.call('POST', '/registries', { name: 'hub' })).statusCode).toBe(201);
  expect((await api.call('POST', '/registries', { name: 'other' })).statusCode).toBe(201);
});
afterEach(async () => {
  await api.close();
});

const policyBody = (keys: string[] = ['keyA', 'keyB']) => ({
  default_action: 'allow',
  rules: [
    { name: 'no-secrets', action: 'deny', image: 'secret/*' },
    { action: 'deny', image: '**', tags: ['latest'] },
  ],
  signatures: { mode: 'enforce', keys: keys.map((k) => f.key(k as 'keyA')), scopes: [{ image: 'tools/**', mode: 'audit' }] },
});

async function tokenFor(scopes: string[], registryIds?: string[]): Promise<string> {
  const res = await api.call('POST', '/access_tokens', {
    name: `t-${randomUUID()}`,
    scopes,
    ...(registryIds ? { registry_ids: registryIds } : {}),
  });
  expect(res.statusCode).toBe(201);
  return res.json().token as string;
}

const as = (token: string, method: 'GET' | 'PUT', url: string, payload?: object) =>
  api.server.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

describe('admin API: pull policies', () => {
  it('stores a policy, answers it with key fingerprints, tells the gateways, and hands it out with the registry', async () => {
    expect((await api.call('GET', '/registries/1/pull_policy')).statusCode).toBe(404);
    const put = await api.call('PUT', '/registries/1/pull_policy', policyBody());
    expect(put.statusCode).toBe(200);
    const body = put.json();
    expect(body).toMatchObject({ registry_id: '1', default_action: 'allow', rules: policyBody().rules, signatures: { mode: 'enforce' } });
    expect(body.signatures.keys.map((k: { name: string; fingerprint: string }) => [k.name, k.fingerprint.length])).toEqual([
      ['keyA', 64],
      ['keyB', 64],
    ]);
    expect(body.signatures.key_set_fingerprint).toMatch(/^[a-f0-9]{64}$/);
    expect((await api.call('GET', '/registries/1/pull_policy')).json()).toEqual(body);
    expect(api.policyChanges).toEqual(['1']);
    const view = await new RegistryResolveResponder({ store: api.store }).handle({ registryId: '1' });
    expect(view.policy).toMatchObject({
      defaultAction: 'allow',
      rules: [{ name: 'no-secrets' }, { tags: ['latest'] }],
      signatures: { mode: 'enforce' },
    });
    expect((await new RegistryResolveResponder({ store: api.store }).handle({ registryId: '2' })).policy).toBeUndefined();
  });

  it('refuses an Ed25519 key, an unreadable key and a pattern that cannot match, listing each problem', async () => {
    const res = await api.call('PUT', '/registries/1/pull_policy', {
      rules: [{ action: 'deny', image: 'org//x' }],
      signatures: { mode: 'enforce', keys: [f.key('ed25519'), { name: 'junk', pem: 'not a key' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    expect(res.json().errors[0].detail.problems).toEqual([
      expect.stringMatching(/rules\[0\].*empty path component/),
      expect.stringMatching(/signatures.keys\[0\].*Ed25519.*cosign generate-key-pair/),
      expect.stringMatching(/signatures.keys\[1\].*not a PEM public key/),
    ]);
    expect((await api.call('GET', '/registries/1/pull_policy')).statusCode).toBe(404);
  });

  it('refuses malformed bodies before they reach the policy', async () => {
    for (const body of [
      { rules: [{ action: 'maybe', image: 'a' }] },
      { rules: [{ action: 'deny', image: 'UPPER/case' }] },
      { signatures: { mode: 'strict', keys: [] } },
      { rules: [], extra: true },
      { signatures: { mode: 'audit', keys: [] } },
    ]) {
      const res = await api.call('PUT', '/registries/1/pull_policy', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await api.call('PUT', '/registries/99/pull_policy', {})).statusCode).toBe(404);
  });

  it('stores keyless trust (a trusted root and identities) and refuses a root without a timestamp authority', async () => {
    const k = f.keyless();
    const body = {
      signatures: { mode: 'enforce', keys: [], keyless: { trusted_root: JSON.parse(k.trustedRoot), identities: [k.identity] } },
    };
    const put = await api.call('PUT', '/registries/1/pull_policy', body);
    expect(put.statusCode).toBe(200);
    expect(put.json().signatures.keyless).toEqual({ trusted_root: JSON.stringify(JSON.parse(k.trustedRoot)), identities: [k.identity] });
    const view = await new RegistryResolveResponder({ store: api.store }).handle({ registryId: '1' });
    expect(view.policy?.signatures.keyless?.identities).toEqual([k.identity]);
    const noTsa = { ...(JSON.parse(k.trustedRoot) as object), timestampAuthorities: [] };
    const bad = await api.call('PUT', '/registries/1/pull_policy', {
      signatures: { mode: 'enforce', keys: [], keyless: { trusted_root: noTsa, identities: [k.identity] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].detail.problems).toEqual([expect.stringMatching(/keyless.trusted_root: .*no timestamp authority/)]);
  });

  it('deletes a policy', async () => {
    await api.call('PUT', '/registries/1/pull_policy', policyBody());
    expect((await api.call('DELETE', '/registries/1/pull_policy')).statusCode).toBe(204);
    expect((await api.call('DELETE', '/registries/1/pull_policy')).statusCode).toBe(404);
    expect(api.policyChanges).toEqual(['1', '1']);
  });

  it('lists recorded refusals per registry and for all, with the access token named', async () => {
    const token = await api.call('POST', '/access_tokens', { name: 'ci-runner', scopes: ['read_virtual_registry'] });
    const tokenId = token.json().id as string;
    const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
    const event = (registryId: string, s: number) => ({
      eventId: randomUUID(),
      registryId,
      image: 'secret/app',
      reference: 'latest',
      kind: 'manifest' as const,
      mode: 'enforce' as const,
      reason: 'rule' as const,
      rule: { index: 1, name: 'no-secrets' },
      message: 'pull of secret/app:latest refused by rule 1 "no-secrets" (deny secret/*)',
      client: `access-token:${tokenId}`,
      count: 3,
      at: at(s),
    });
    await api.pullPolicies.record(event('1', 1));
    await api.pullPolicies.record(event('2', 2));
    await api.pullPolicies.record({
      ...event('1', 3),
      client: 'anonymous',
      reason: 'unsigned',
      rule: undefined,
      mode: 'audit',
      digest: f.digest,
    });
    const one = await api.call('GET', '/registries/1/policy_denials');
    expect(one.statusCode).toBe(200);
    expect(one.headers['x-total']).toBe('2');
    expect(one.json()[0]).toMatchObject({
      registry_id: '1',
      reason: 'unsigned',
      mode: 'audit',
      rule: null,
      client: 'anonymous',
      token_name: null,
      digest: f.digest,
    });
    expect(one.json()[1]).toMatchObject({
      rule: { index: 1, name: 'no-secrets' },
      client: `access-token:${tokenId}`,
      token_name: 'ci-runner',
      count: 3,
      at: at(1),
    });
    const all = await api.call('GET', '/policy_denials?per_page=2');
    expect(all.headers['x-total']).toBe('3');
    expect(all.json().map((d: { registry_id: string }) => d.registry_id)).toEqual(['1', '2']);
    expect((await api.call('GET', '/policy_denials?registry_id=2')).json()).toHaveLength(1);
  });

  it('lets a read-only token read, a restricted one only its registries, and neither change a policy', async () => {
    await api.call('PUT', '/registries/1/pull_policy', policyBody());
    const reader = await tokenFor(['read_virtual_registry']);
    expect((await as(reader, 'GET', '/registries/1/pull_policy')).statusCode).toBe(200);
    expect((await as(reader, 'GET', '/policy_denials')).statusCode).toBe(200);
    expect((await as(reader, 'PUT', '/registries/1/pull_policy', policyBody())).statusCode).toBe(403);
    const restricted = await tokenFor(['read_virtual_registry'], ['2']);
    expect((await as(restricted, 'GET', '/registries/1/pull_policy')).statusCode).toBe(403);
    expect((await as(restricted, 'GET', '/registries/1/policy_denials')).statusCode).toBe(403);
    expect((await as(restricted, 'GET', '/registries/2/policy_denials')).statusCode).toBe(200);
  });
});
