import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, registryToken } from './support/auth-clients.ts';
import { startDistributedWithTap, type TappedDistributedVreg } from './support/auth-distributed.ts';
import { describeAccessControl } from './support/auth-scenarios.ts';
import { testEnv } from './support/test-env.ts';

describeAccessControl('distributed', () => startDistributedWithTap());

describe('registry tokens across gateway processes (distributed mode)', () => {
  const env = testEnv();
  let vreg: TappedDistributedVreg;
  let registryId: string;
  let accessToken: string;
  const repo = () => `virtual_registries/containers/${registryId}/team/app/api`;
  const manifest = (gatewayUrl: string, token: string | undefined) =>
    fetch(`${gatewayUrl}/v2/${repo()}/manifests/1.0`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    vreg = await startDistributedWithTap({ gateways: 2 });
    registryId = (await vreg.admin.createRegistry('private-across', { visibility: 'private' })).id;
    await vreg.admin.addUpstream(registryId, { name: 'a', url: env.upstreamA });
    const created = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', {
      name: 'ci',
      scopes: ['read_virtual_registry'],
      registry_ids: [registryId],
    });
    accessToken = created.body.token;
  });
  afterAll(async () => vreg?.stop());

  it('accepts a registry token issued by one gateway process on another, with no token check on the bus', async () => {
    const [first, second] = vreg.gatewayUrls as [string, string];
    const { token } = await registryToken(first, [`repository:${repo()}:pull`], basic('ci', accessToken));
    expect((await manifest(first, token)).status).toBe(200);
    const verifications = () => (vreg.published() ?? '').split('vreg.catalog.access_token.verify').length - 1;
    // A token check is a request answered before the pull is: once the tap has caught up, it has seen every check so far.
    await vreg.tapCaughtUp();
    const before = verifications();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 5; i += 1) expect((await manifest(second, token)).status).toBe(200);
    await vreg.tapCaughtUp();
    expect(verifications()).toBe(before);
    expect((await manifest(second, undefined)).status).toBe(401);
  });

  it('rotates keys: a gateway with a new key first accepts the old key’s tokens, and its own are refused where the new key is unknown', async () => {
    const newSeed = randomBytes(32).toString('hex');
    const rotated = await vreg.startGateway({ VREG_TOKEN_SIGNING_KEYS: `${newSeed},${vreg.signingSeed}` });
    const [old] = vreg.gatewayUrls as [string];
    const scope = [`repository:${repo()}:pull`];
    const fromOld = (await registryToken(old, scope, basic('ci', accessToken))).token;
    const fromRotated = (await registryToken(rotated.url, scope, basic('ci', accessToken))).token;
    expect((await manifest(rotated.url, fromOld)).status).toBe(200);
    expect((await manifest(rotated.url, fromRotated)).status).toBe(200);
    const refused = await manifest(old, fromRotated);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
