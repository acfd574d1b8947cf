import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, getFrom } from './support/auth-clients.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';

/**
 * The token endpoint's failure throttling over real HTTP, from two loopback
 * addresses (127.0.0.1 and 127.0.0.2 are two clients) and, through the
 * trusted proxy 127.0.0.1, from IPv6 addresses in X-Forwarded-For.
 * Default limits: 20 failures per address (/64), 10 per username and address.
 */
describe('login failure throttling (embedded vreg)', () => {
  let vreg: VregUnderTest;
  let tokenUrl: string;
  let realToken: string;

  beforeAll(async () => {
    vreg = await startEmbeddedUnderTest({ VREG_TRUST_PROXY: '127.0.0.1' });
    const { id } = await vreg.admin.createRegistry('throttled', { visibility: 'private' });
    tokenUrl = `${vreg.gatewayUrl}/v2/token?service=vreg&scope=repository:virtual_registries/containers/${id}/library/alpine:pull`;
    const created = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', {
      name: 'victim',
      scopes: ['read_virtual_registry'],
    });
    expect(created.status).toBe(201);
    realToken = created.body.token;
  });
  afterAll(async () => vreg?.stop());

  const guess = () => `vregat_${randomBytes(32).toString('base64url')}`;

  it('does not lock the real victim out after ten wrong attempts as victim from another address', async () => {
    // Eleven guesses as someone else's name.
    recordAttacks(
      AttackClasses.bruteForce,
      'does not lock the real victim out after ten wrong attempts as victim from another address',
      'test/login-throttle.int.test.ts',
    ).tried(11);
    for (let i = 0; i < 10; i += 1)
      expect((await getFrom('127.0.0.2', tokenUrl, { authorization: basic('victim', guess()) })).status).toBe(401);
    // The attacker's own network is slowed on that name...
    const attacker = await getFrom('127.0.0.2', tokenUrl, { authorization: basic('victim', guess()) });
    expect(attacker.status).toBe(429);
    expect(Number(attacker.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // ...the real victim, elsewhere, is not.
    const victim = await getFrom('127.0.0.1', tokenUrl, { authorization: basic('victim', realToken) });
    expect(victim.status, victim.body).toBe(200);
    expect((JSON.parse(victim.body) as { token?: string }).token).toMatch(/^ey/);
  });

  it('still throttles a brute force that rotates usernames and addresses within one IPv6 /64', async () => {
    recordAttacks(
      AttackClasses.bruteForce,
      'still throttles a brute force that rotates usernames and addresses within one IPv6 /64',
      'test/login-throttle.int.test.ts',
    ).tried(30);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const res = await getFrom('127.0.0.1', tokenUrl, {
        authorization: basic(`user${i}`, guess()),
        'x-forwarded-for': `2001:db8:5:5:${(i + 1).toString(16)}::${(i * 7 + 1).toString(16)}`,
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // Another /64 is another client, and the proxy's own clients are untouched.
    const neighbour = await getFrom('127.0.0.1', tokenUrl, {
      authorization: basic('victim', realToken),
      'x-forwarded-for': '2001:db8:5:6::1',
    });
    expect(neighbour.status).toBe(200);
    expect((await getFrom('127.0.0.1', tokenUrl, { authorization: basic('victim', realToken) })).status).toBe(200);
  });
});
