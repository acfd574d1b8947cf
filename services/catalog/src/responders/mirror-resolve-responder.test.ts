import { describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { MirrorHostAdmin } from '../domain/mirror-host-admin.ts';
import { MirrorResolveResponder } from './mirror-resolve-responder.ts';

describe('MirrorResolveResponder', () => {
  it('answers the registry mirroring a host in any spelling, and {} for a host nobody mirrors', async () => {
    const store = new MemoryCatalogStore();
    const registry = await store.registries.create({ name: 'hub' });
    const mirrors = new MirrorHostAdmin(store);
    await mirrors.setHosts(registry.id, ['docker.io']);
    const responder = new MirrorResolveResponder({ mirrors });
    expect(await responder.handle({ host: 'docker.io' })).toEqual({ registryId: registry.id });
    expect(await responder.handle({ host: 'Registry-1.Docker.IO' })).toEqual({ registryId: registry.id });
    expect(await responder.handle({ host: 'ghcr.io' })).toEqual({});
    expect(await responder.handle({ host: 'not a host' })).toEqual({});
  });
});
