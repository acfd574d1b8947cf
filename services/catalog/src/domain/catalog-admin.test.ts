import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@vreg/contracts';
import { SecretBox } from '@vreg/secrets';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { CatalogAdmin } from './catalog-admin.ts';

const box = new SecretBox(randomBytes(32));
let store: MemoryCatalogStore;
let admin: CatalogAdmin;

beforeEach(() => {
  store = new MemoryCatalogStore();
  admin = new CatalogAdmin(store, box);
});

async function entryFor(upstreamId: string, registryId: string, relativePath: string): Promise<void> {
  await store.cacheEntries.upsert({
    upstreamId,
    registryId,
    relativePath,
    digest: `sha256:${'d'.repeat(64)}`,
    contentType: 'application/octet-stream',
    size: 1,
    upstreamCheckedAt: new Date(),
  });
}

describe('CatalogAdmin', () => {
  it('seals the password so the store never holds the plaintext', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    const upstream = await admin.addUpstream(registry.id, {
      name: 'hub',
      url: 'https://hub.example/',
      username: 'bot',
      password: 's3cret-pass',
    });
    expect(upstream.passwordSealed).toBeDefined();
    expect(upstream.passwordSealed).not.toContain('s3cret');
    expect(box.open(upstream.passwordSealed as string)).toBe('s3cret-pass');
    expect(upstream.url).toBe('https://hub.example');
    expect(upstream.cacheValidityHours).toBe(24);
  });

  it('refuses a password without a username, also when a patch removes the username', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    await expect(admin.addUpstream(registry.id, { name: 'u', url: 'https://u.example', password: 'p' })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
    });
    const upstream = await admin.addUpstream(registry.id, { name: 'u', url: 'https://u.example', username: 'bot', password: 'p' });
    await expect(admin.updateUpstream(upstream.id, { username: null })).rejects.toMatchObject({ code: ErrorCodes.validationFailed });
    expect(await admin.updateUpstream(upstream.id, { username: null, password: null })).not.toHaveProperty('passwordSealed');
  });

  it('reseals a new password and keeps the old one when a patch does not mention it', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    const upstream = await admin.addUpstream(registry.id, { name: 'u', url: 'https://u.example', username: 'bot', password: 'old' });
    const renamed = await admin.updateUpstream(upstream.id, { name: 'renamed' });
    expect(renamed.passwordSealed).toBe(upstream.passwordSealed);
    const changed = await admin.updateUpstream(upstream.id, { password: 'new' });
    expect(box.open(changed.passwordSealed as string)).toBe('new');
  });

  it('refuses an upstream URL with credentials', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    await expect(admin.addUpstream(registry.id, { name: 'u', url: 'https://a:b@u.example' })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
    });
    const upstream = await admin.addUpstream(registry.id, { name: 'u', url: 'https://u.example' });
    await expect(admin.updateUpstream(upstream.id, { url: 'https://a:b@u.example' })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
    });
  });

  it('answers NOT_FOUND for unknown registries and upstreams', async () => {
    await expect(admin.getRegistry('9')).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(admin.addUpstream('9', { name: 'u', url: 'https://u.example' })).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(admin.listUpstreams('9')).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(admin.updateUpstream('9', { name: 'x' })).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(admin.deleteUpstream('9')).rejects.toMatchObject({ code: ErrorCodes.notFound });
    await expect(admin.listCacheEntries('9', { page: 1, perPage: 20 })).rejects.toMatchObject({ code: ErrorCodes.notFound });
  });

  it('deletes a registry with its upstreams and their cache entries, leaving other registries alone', async () => {
    const doomed = await admin.createRegistry({ name: 'doomed' });
    const kept = await admin.createRegistry({ name: 'kept' });
    const a = await admin.addUpstream(doomed.id, { name: 'a', url: 'https://a.example' });
    const b = await admin.addUpstream(doomed.id, { name: 'b', url: 'https://b.example' });
    const c = await admin.addUpstream(kept.id, { name: 'c', url: 'https://c.example' });
    await entryFor(a.id, doomed.id, 'x/manifests/1');
    await entryFor(b.id, doomed.id, 'x/manifests/1');
    await entryFor(c.id, kept.id, 'x/manifests/1');

    await admin.deleteRegistry(doomed.id);

    expect(await store.registries.get(doomed.id)).toBeUndefined();
    expect(await store.upstreams.get(a.id)).toBeUndefined();
    expect(await store.upstreams.get(b.id)).toBeUndefined();
    expect(await store.cacheEntries.countByUpstream(a.id)).toBe(0);
    expect(await store.cacheEntries.countByUpstream(b.id)).toBe(0);
    expect(await store.cacheEntries.countByUpstream(c.id)).toBe(1);
    await expect(admin.deleteRegistry(doomed.id)).rejects.toMatchObject({ code: ErrorCodes.notFound });
  });

  it('deletes an upstream with its cache entries and closes the gap in the order', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    const a = await admin.addUpstream(registry.id, { name: 'a', url: 'https://a.example' });
    const b = await admin.addUpstream(registry.id, { name: 'b', url: 'https://b.example' });
    await entryFor(a.id, registry.id, 'x/manifests/1');
    await admin.deleteUpstream(a.id);
    expect(await store.cacheEntries.countByUpstream(a.id)).toBe(0);
    expect(await admin.listUpstreams(registry.id)).toEqual([expect.objectContaining({ id: b.id, position: 0 })]);
  });
});
