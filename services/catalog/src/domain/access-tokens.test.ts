import { ErrorCodes } from '@vreg/contracts';
import { hashToken } from '@vreg/secrets';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { AccessTokens, looksLikeAccessToken } from './access-tokens.ts';

describe('AccessTokens', () => {
  let store: MemoryCatalogStore;
  let now: Date;
  let touched: Array<[string, Date]>;
  let tokens: AccessTokens;

  beforeEach(() => {
    store = new MemoryCatalogStore();
    now = new Date('2030-01-01T00:00:00Z');
    touched = [];
    tokens = new AccessTokens({
      tokens: store.accessTokens,
      registries: store.registries,
      usage: { touch: (id, at) => touched.push([id, at]) },
      now: () => now,
    });
  });

  it('returns the secret once and stores only its sha256 and a short prefix', async () => {
    const { token, secret } = await tokens.create({ name: 'ci', scopes: ['read_virtual_registry'] });
    expect(looksLikeAccessToken(secret)).toBe(true);
    expect(secret).toMatch(/^vregat_[A-Za-z0-9_-]{43}$/);
    expect(token.tokenDigest).toBe(hashToken(secret));
    expect(token.tokenPrefix).toBe(secret.slice(0, 11));
    expect(JSON.stringify(await store.accessTokens.list({ page: 1, perPage: 10 }))).not.toContain(secret);
  });

  it('makes a different secret every time', async () => {
    const a = await tokens.create({ name: 'a', scopes: ['admin'] });
    const b = await tokens.create({ name: 'b', scopes: ['admin'] });
    expect(a.secret).not.toBe(b.secret);
  });

  it('verifies an active token and notes its use', async () => {
    const { token, secret } = await tokens.create({ name: 'ci', scopes: ['read_virtual_registry'] });
    expect((await tokens.verify(secret)).id).toBe(token.id);
    expect(touched).toEqual([[token.id, now]]);
  });

  it('refuses unknown, malformed, revoked and expired tokens alike with UNAUTHORIZED', async () => {
    const revoked = await tokens.create({ name: 'r', scopes: ['read_virtual_registry'] });
    await tokens.revoke(revoked.token.id);
    const expiring = await tokens.create({ name: 'e', scopes: ['read_virtual_registry'], expiresAt: new Date(now.getTime() + 1000) });
    now = new Date(now.getTime() + 1000);
    const unknown = `vregat_${'A'.repeat(43)}`;
    for (const presented of [revoked.secret, expiring.secret, unknown, 'not-a-token', '', `${revoked.secret}x`]) {
      const err = await tokens.verify(presented).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.unauthorized, message: 'the access token is not valid' });
    }
    expect(touched).toEqual([]);
  });

  it('refuses an expiry in the past, no scope, and registries that do not exist', async () => {
    await expect(tokens.create({ name: 'x', scopes: ['admin'], expiresAt: new Date(now.getTime() - 1) })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
    });
    await expect(tokens.create({ name: 'x', scopes: [] })).rejects.toMatchObject({ code: ErrorCodes.validationFailed });
    const registry = await store.registries.create({ name: 'one' });
    await expect(tokens.create({ name: 'x', scopes: ['read_virtual_registry'], registryIds: [registry.id, '77'] })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
      detail: { unknown: ['77'] },
    });
    const ok = await tokens.create({
      name: 'x',
      scopes: ['read_virtual_registry', 'read_virtual_registry'],
      registryIds: [registry.id, registry.id],
    });
    expect(ok.token).toMatchObject({ scopes: ['read_virtual_registry'], registryIds: [registry.id] });
  });

  it('revokes idempotently and answers NOT_FOUND for an unknown token', async () => {
    const { token } = await tokens.create({ name: 'ci', scopes: ['admin'] });
    const first = await tokens.revoke(token.id);
    now = new Date(now.getTime() + 60_000);
    expect((await tokens.revoke(token.id)).revokedAt).toEqual(first.revokedAt);
    await expect(tokens.revoke('999')).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(tokens.get('999')).rejects.toMatchObject({ code: ErrorCodes.notFound });
  });
});
