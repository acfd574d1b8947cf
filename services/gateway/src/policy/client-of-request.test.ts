import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { RegistryTokens } from '../auth/registry-tokens.ts';
import { TokenKeyRing } from '../auth/token-key-ring.ts';
import { clientOfRequest } from './client-of-request.ts';

const requestWith = (authorization?: string): FastifyRequest =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as FastifyRequest;

describe('the client of a pull, for refusal records', () => {
  it('is the registry token subject: the access token it was issued for', async () => {
    const tokens = new RegistryTokens(await TokenKeyRing.fromSeeds([randomBytes(32)]), {
      issuer: 'vreg',
      service: 'vreg',
      ttlSeconds: 300,
    });
    const issued = await tokens.issue('access-token:42', [{ type: 'repository', name: '1/secret/app', actions: ['pull'] }]);
    expect(clientOfRequest(requestWith(`Bearer ${issued.token}`))).toBe('access-token:42');
  });

  it('is anonymous without a token, with an anonymous token, or with something that is not a token', async () => {
    const tokens = new RegistryTokens(await TokenKeyRing.fromSeeds([randomBytes(32)]), {
      issuer: 'vreg',
      service: 'vreg',
      ttlSeconds: 300,
    });
    expect(clientOfRequest(requestWith())).toBe('anonymous');
    expect(clientOfRequest(requestWith(`Bearer ${(await tokens.issue('', [])).token}`))).toBe('anonymous');
    expect(clientOfRequest(requestWith('Bearer not-a-jwt'))).toBe('anonymous');
    expect(clientOfRequest(requestWith('Basic dXNlcjpwYXNz'))).toBe('anonymous');
  });
});
