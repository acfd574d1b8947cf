import { randomBytes } from 'node:crypto';
import { MemoryEventBus } from '@vreg/bus';
import { AccessTokenVerifyReplySchema, ErrorCodes, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { AccessTokens } from '../domain/access-tokens.ts';
import { AccessTokenVerifyResponder } from './access-token-verify-responder.ts';

describe('AccessTokenVerifyResponder', () => {
  const box = new SecretBox(randomBytes(32));
  let bus: MemoryEventBus;
  let store: MemoryCatalogStore;
  let tokens: AccessTokens;

  beforeEach(async () => {
    bus = new MemoryEventBus({ logger: createLogger({ level: 'silent', name: 'test' }) });
    store = new MemoryCatalogStore();
    tokens = new AccessTokens({ tokens: store.accessTokens, registries: store.registries, usage: { touch: () => {} } });
    await new AccessTokenVerifyResponder({ tokens, opener: box }).start(bus);
  });
  afterEach(async () => bus.close());

  const verify = (sealedToken: string) =>
    bus.request(Subjects.accessTokenVerify, { sealedToken }, { schema: AccessTokenVerifyReplySchema });

  it('answers what a sealed valid token may do, without its digest', async () => {
    const registry = await store.registries.create({ name: 'one' });
    const { token, secret } = await tokens.create({
      name: 'ci',
      scopes: ['read_virtual_registry'],
      registryIds: [registry.id],
      expiresAt: new Date('2099-01-01T00:00:00Z'),
    });
    const reply = await verify(box.seal(secret));
    expect(reply).toEqual({
      tokenId: token.id,
      name: 'ci',
      scopes: ['read_virtual_registry'],
      registryIds: [registry.id],
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(reply)).not.toContain(token.tokenDigest);
  });

  it('answers UNAUTHORIZED for a revoked token, a wrong one, and one sealed with another key', async () => {
    const { token, secret } = await tokens.create({ name: 'ci', scopes: ['read_virtual_registry'] });
    const other = new SecretBox(randomBytes(32));
    await expect(verify(other.seal(secret))).rejects.toMatchObject({ code: ErrorCodes.unauthorized });
    await expect(verify(box.seal(`vregat_${'x'.repeat(43)}`))).rejects.toMatchObject({ code: ErrorCodes.unauthorized });
    await tokens.revoke(token.id);
    await expect(verify(box.seal(secret))).rejects.toMatchObject({ code: ErrorCodes.unauthorized });
  });
});
