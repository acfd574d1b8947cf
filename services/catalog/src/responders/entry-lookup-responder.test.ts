import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@vreg/contracts';
import { SecretBox } from '@vreg/secrets';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { CatalogAdmin } from '../domain/catalog-admin.ts';
import { EntryLookupResponder } from './entry-lookup-responder.ts';

const box = new SecretBox(randomBytes(32));
const PATH = 'library/nginx/manifests/stable';
let store: MemoryCatalogStore;
let admin: CatalogAdmin;

beforeEach(() => {
  store = new MemoryCatalogStore();
  admin = new CatalogAdmin(store, box);
});

async function cache(upstreamId: string, registryId: string, digestChar: string): Promise<void> {
  await store.cacheEntries.upsert({
    upstreamId,
    registryId,
    relativePath: PATH,
    digest: `sha256:${digestChar.repeat(64)}`,
    contentType: 'application/vnd.oci.image.index.v1+json',
    size: 42,
    upstreamCheckedAt: new Date('2025-06-01T00:00:00.000Z'),
  });
}

describe('EntryLookupResponder', () => {
  it('answers the entry of the first upstream in order that has the path, following a reorder', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    const first = await admin.addUpstream(registry.id, { name: 'first', url: 'https://first.example' });
    const second = await admin.addUpstream(registry.id, { name: 'second', url: 'https://second.example' });
    await cache(second.id, registry.id, 'b');
    const lookup = new EntryLookupResponder({ store });
    expect((await lookup.handle({ registryId: registry.id, relativePath: PATH })).entry).toEqual({
      upstreamId: second.id,
      relativePath: PATH,
      digest: `sha256:${'b'.repeat(64)}`,
      contentType: 'application/vnd.oci.image.index.v1+json',
      size: 42,
      upstreamCheckedAt: '2025-06-01T00:00:00.000Z',
    });
    await cache(first.id, registry.id, 'a');
    expect((await lookup.handle({ registryId: registry.id, relativePath: PATH })).entry?.upstreamId).toBe(first.id);
    await admin.updateUpstream(second.id, { position: 0 });
    expect((await lookup.handle({ registryId: registry.id, relativePath: PATH })).entry?.upstreamId).toBe(second.id);
  });

  it('answers a miss with no entry', async () => {
    const registry = await admin.createRegistry({ name: 'r' });
    await admin.addUpstream(registry.id, { name: 'u', url: 'https://u.example' });
    expect(await new EntryLookupResponder({ store }).handle({ registryId: registry.id, relativePath: PATH })).toEqual({});
    const empty = await admin.createRegistry({ name: 'empty' });
    expect(await new EntryLookupResponder({ store }).handle({ registryId: empty.id, relativePath: PATH })).toEqual({});
  });

  it('never answers an entry cached through another registry upstream', async () => {
    const a = await admin.createRegistry({ name: 'a' });
    const b = await admin.createRegistry({ name: 'b' });
    const upstreamA = await admin.addUpstream(a.id, { name: 'hub', url: 'https://hub.example' });
    await admin.addUpstream(b.id, { name: 'hub', url: 'https://hub.example' });
    await cache(upstreamA.id, a.id, 'c');
    const lookup = new EntryLookupResponder({ store });
    expect((await lookup.handle({ registryId: a.id, relativePath: PATH })).entry).toBeDefined();
    expect(await lookup.handle({ registryId: b.id, relativePath: PATH })).toEqual({});
  });

  it('answers NAME_UNKNOWN for a registry that does not exist', async () => {
    await expect(new EntryLookupResponder({ store }).handle({ registryId: '404', relativePath: PATH })).rejects.toMatchObject({
      code: ErrorCodes.nameUnknown,
    });
  });
});
