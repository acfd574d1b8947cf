import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@vreg/contracts';
import { SecretBox } from '@vreg/secrets';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { CatalogAdmin } from '../domain/catalog-admin.ts';
import { RegistryResolveResponder } from './registry-resolve-responder.ts';

const box = new SecretBox(randomBytes(32));
let store: MemoryCatalogStore;
let admin: CatalogAdmin;

beforeEach(() => {
  store = new MemoryCatalogStore();
  admin = new CatalogAdmin(store, box);
});

describe('RegistryResolveResponder', () => {
  it('answers the registry with its upstreams in order and passwords sealed, never in clear', async () => {
    const registry = await admin.createRegistry({ name: 'mirror' });
    const hub = await admin.addUpstream(registry.id, {
      name: 'hub',
      url: 'https://hub.example',
      username: 'bot',
      password: 'plain-secret',
    });
    const quay = await admin.addUpstream(registry.id, { name: 'quay', url: 'https://quay.example', cacheValidityHours: 0, position: 0 });
    const view = await new RegistryResolveResponder({ store }).handle({ registryId: registry.id });
    expect(view).toEqual({
      id: registry.id,
      name: 'mirror',
      visibility: 'private',
      upstreams: [
        { id: quay.id, name: 'quay', url: 'https://quay.example', position: 0, cacheValidityHours: 0, libraryPrefix: false },
        {
          id: hub.id,
          name: 'hub',
          url: 'https://hub.example',
          position: 1,
          username: 'bot',
          passwordSealed: hub.passwordSealed,
          cacheValidityHours: 24,
          libraryPrefix: false,
        },
      ],
    });
    expect(JSON.stringify(view)).not.toContain('plain-secret');
    expect(box.open(view.upstreams[1]?.passwordSealed as string)).toBe('plain-secret');
  });

  it('answers NAME_UNKNOWN for a registry that does not exist', async () => {
    await expect(new RegistryResolveResponder({ store }).handle({ registryId: '77' })).rejects.toMatchObject({
      code: ErrorCodes.nameUnknown,
    });
  });
});
