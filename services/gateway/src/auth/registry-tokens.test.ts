import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { grants, RegistryTokens } from './registry-tokens.ts';
import { TokenKeyRing } from './token-key-ring.ts';

/** A refusal: UNAUTHORIZED with one message and no detail for the client, the failed check in `reason`. */
const refusedFor = (reason: string) =>
  expect.objectContaining({ code: ErrorCodes.unauthorized, message: 'the registry token is not valid', detail: undefined, reason });

describe('RegistryTokens', async () => {
  const keys = await TokenKeyRing.fromSeeds([randomBytes(32)]);
  let now = Date.UTC(2030, 0, 1);
  const tokens = new RegistryTokens(keys, { issuer: 'vreg', service: 'vreg.test', ttlSeconds: 300, now: () => now });
  const access = [{ type: 'repository', name: 'virtual_registries/containers/1/library/alpine', actions: ['pull'] }];
  const claimsOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

  it('issues a token with the spec claims and only the granted access', async () => {
    const issued = await tokens.issue('access-token:7', access);
    expect(issued.expiresIn).toBe(300);
    expect(issued.issuedAt).toBe('2030-01-01T00:00:00.000Z');
    const claims = await tokens.verify(issued.token);
    expect(claims).toMatchObject({
      iss: 'vreg',
      sub: 'access-token:7',
      aud: 'vreg.test',
      iat: now / 1000,
      nbf: now / 1000,
      exp: now / 1000 + 300,
      access,
    });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(grants(claims, access[0]!.name, 'pull')).toBe(true);
    expect(grants(claims, access[0]!.name, 'push')).toBe(false);
    expect(grants(claims, 'virtual_registries/containers/2/library/alpine', 'pull')).toBe(false);
  });

  it('refuses a token after its lifetime', async () => {
    const issued = await tokens.issue('', access);
    now += 299_000;
    expect((await tokens.verify(issued.token)).sub).toBe('');
    now += 1_000;
    await expect(tokens.verify(issued.token)).rejects.toThrow(refusedFor('expired'));
  });

  it('refuses an expired token it never saw before, even within the clock leeway', async () => {
    const issued = await tokens.issue('', access);
    now += 310_000;
    await expect(tokens.verify(issued.token)).rejects.toThrow(refusedFor('expired'));
    now += 60_000;
    await expect(tokens.verify(issued.token)).rejects.toThrow(refusedFor('expired'));
  });

  it('checks a token it accepted before only for its times, and an altered copy in full', async () => {
    const issued = await tokens.issue('access-token:9', access);
    expect((await tokens.verify(issued.token)).sub).toBe('access-token:9');
    const [header, payload, signature] = issued.token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    await expect(tokens.verify(`${header}.${payload}.${flipped}`)).rejects.toThrow(refusedFor('bad signature'));
    const widened = Buffer.from(JSON.stringify({ ...claimsOf(issued.token), access: [{ ...access[0], name: 'x/y' }] })).toString(
      'base64url',
    );
    await expect(tokens.verify(`${header}.${widened}.${signature}`)).rejects.toThrow(refusedFor('bad signature'));
    const other = new RegistryTokens(keys, { issuer: 'vreg', service: 'another', ttlSeconds: 300, now: () => now });
    await expect(other.verify(issued.token)).rejects.toThrow(refusedFor('audience'));
    expect((await tokens.verify(issued.token)).sub).toBe('access-token:9');
    // Remembered, but its times still count.
    now += 300_000;
    await expect(tokens.verify(issued.token)).rejects.toThrow(refusedFor('expired'));
  });

  it('refuses a token of another service, another issuer or from the future', async () => {
    const other = new RegistryTokens(keys, { issuer: 'vreg', service: 'elsewhere', ttlSeconds: 300, now: () => now });
    await expect(tokens.verify((await other.issue('', access)).token)).rejects.toThrow(refusedFor('audience'));
    const issuer = new RegistryTokens(keys, { issuer: 'mallory', service: 'vreg.test', ttlSeconds: 300, now: () => now });
    await expect(tokens.verify((await issuer.issue('', access)).token)).rejects.toThrow(refusedFor('issuer'));
    const ahead = new RegistryTokens(keys, { issuer: 'vreg', service: 'vreg.test', ttlSeconds: 300, now: () => now + 120_000 });
    await expect(tokens.verify((await ahead.issue('', access)).token)).rejects.toThrow(refusedFor('not yet valid'));
    // Within the leeway replicas' clocks may differ by, a token from a little ahead passes.
    const slightlyAhead = new RegistryTokens(keys, { issuer: 'vreg', service: 'vreg.test', ttlSeconds: 300, now: () => now + 20_000 });
    expect((await tokens.verify((await slightlyAhead.issue('', access)).token)).sub).toBe('');
  });

  it('refuses claims of the wrong shape even when signed', async () => {
    const t = Math.floor(now / 1000);
    await expect(tokens.verify(await keys.sign({ iss: 'vreg', aud: 'vreg.test', exp: t + 60, nbf: t, iat: t }))).rejects.toThrow(
      refusedFor('claims malformed'),
    );
    await expect(tokens.verify(await keys.sign({ iss: 'vreg', aud: 'vreg.test' }))).rejects.toThrow(
      expect.objectContaining({ code: ErrorCodes.unauthorized, reason: expect.stringContaining('claim') }),
    );
  });
});
