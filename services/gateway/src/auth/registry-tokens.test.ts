import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { grants, RegistryTokens } from './registry-tokens.ts';
import { TokenKeyRing } from './token-key-ring.ts';

describe('RegistryTokens', () => {
  const keys = TokenKeyRing.fromSeeds([randomBytes(32)]);
  let now = Date.UTC(2030, 0, 1);
  const tokens = new RegistryTokens(keys, { issuer: 'vreg', service: 'vreg.test', ttlSeconds: 300, now: () => now });
  const access = [{ type: 'repository', name: 'virtual_registries/containers/1/library/alpine', actions: ['pull'] }];

  it('issues a token with the spec claims and only the granted access', () => {
    const issued = tokens.issue('access-token:7', access);
    expect(issued.expiresIn).toBe(300);
    expect(issued.issuedAt).toBe('2030-01-01T00:00:00.000Z');
    const claims = tokens.verify(issued.token);
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

  it('refuses a token after its lifetime', () => {
    const issued = tokens.issue('', access);
    now += 299_000;
    expect(tokens.verify(issued.token).sub).toBe('');
    now += 1_000;
    expect(() => tokens.verify(issued.token)).toThrow(
      expect.objectContaining({ code: ErrorCodes.unauthorized, detail: { reason: 'expired' } }),
    );
  });

  it('checks a token it accepted before only for its times, and an altered copy in full', () => {
    const issued = tokens.issue('access-token:9', access);
    expect(tokens.verify(issued.token).sub).toBe('access-token:9');
    const [header, payload, signature] = issued.token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    expect(() => tokens.verify(`${header}.${payload}.${flipped}`)).toThrow(expect.objectContaining({ code: ErrorCodes.unauthorized }));
    const other = new RegistryTokens(keys, { issuer: 'vreg', service: 'another', ttlSeconds: 300, now: () => now });
    expect(() => other.verify(issued.token)).toThrow(expect.objectContaining({ detail: { reason: 'audience' } }));
    expect(tokens.verify(issued.token).sub).toBe('access-token:9');
  });

  it('refuses a token of another service, another issuer or from the future', () => {
    const other = new RegistryTokens(keys, { issuer: 'vreg', service: 'elsewhere', ttlSeconds: 300, now: () => now });
    expect(() => tokens.verify(other.issue('', access).token)).toThrow(expect.objectContaining({ detail: { reason: 'audience' } }));
    const issuer = new RegistryTokens(keys, { issuer: 'mallory', service: 'vreg.test', ttlSeconds: 300, now: () => now });
    expect(() => tokens.verify(issuer.issue('', access).token)).toThrow(expect.objectContaining({ detail: { reason: 'issuer' } }));
    const ahead = new RegistryTokens(keys, { issuer: 'vreg', service: 'vreg.test', ttlSeconds: 300, now: () => now + 120_000 });
    expect(() => tokens.verify(ahead.issue('', access).token)).toThrow(expect.objectContaining({ detail: { reason: 'not yet valid' } }));
  });

  it('refuses claims of the wrong shape even when signed', () => {
    expect(() => tokens.verify(keys.sign({ iss: 'vreg', aud: 'vreg.test' }))).toThrow(
      expect.objectContaining({ detail: { reason: 'claims malformed' } }),
    );
  });
});
