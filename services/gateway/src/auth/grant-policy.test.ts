import { describe, expect, it } from 'vitest';
import { type GrantLookups, grantAccess, type Principal } from './grant-policy.ts';
import { parseRepositoryName, parseScopes } from './repository-scope.ts';

const repo = (id: string, image = 'library/alpine') => `virtual_registries/containers/${id}/${image}`;
const visibility: Record<string, 'public' | 'private'> = { '1': 'private', '2': 'private', '3': 'public' };
/** No registry mirrors anything: plain names grant nothing. */
const lookup: GrantLookups = { visibilityOf: async (id: string) => visibility[id], mirrorOf: async () => undefined };
/** Registry 1 mirrors docker.io, registry 2 ghcr.io. */
const mirrored = (hub = '1'): GrantLookups => ({
  visibilityOf: lookup.visibilityOf,
  mirrorOf: async (host) => ({ 'docker.io': hub, 'ghcr.io': '2' })[host],
});
const token = (extra: Partial<Extract<Principal, { kind: 'access-token' }>['token']> = {}): Principal => ({
  kind: 'access-token',
  token: { tokenId: '9', name: 't', scopes: ['read_virtual_registry'], ...extra },
});

describe('parseScopes', () => {
  it('reads repeated and space-separated scopes, keeping names with colons intact', () => {
    expect(parseScopes([`repository:${repo('1')}:pull`, 'repository:a/b:pull,push registry:catalog:*'])).toEqual([
      { type: 'repository', name: repo('1'), actions: ['pull'] },
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(parseScopes(['repository:host:5000/x:pull'])).toEqual([{ type: 'repository', name: 'host:5000/x', actions: ['pull'] }]);
  });

  it('drops malformed scopes instead of failing', () => {
    expect(parseScopes(['', 'repository', 'repository:x', 'repository::pull', ':x:pull', 'repository:x:'])).toEqual([]);
  });
});

describe('parseRepositoryName', () => {
  it('splits a virtual registry repository into registry id and image, and refuses anything else', () => {
    expect(parseRepositoryName(repo('12', 'team/app/api'))).toEqual({ registryId: '12', image: 'team/app/api' });
    for (const name of [
      'library/alpine',
      'virtual_registries/containers/x/a',
      'virtual_registries/containers/1/',
      'virtual_registries/containers/1/UPPER',
      'virtual_registries/containers/0/a',
    ]) {
      expect(parseRepositoryName(name), name).toBeUndefined();
    }
  });
});

describe('grantAccess', () => {
  it('gives anonymous clients pull on public registries only', async () => {
    const granted = await grantAccess(
      { kind: 'anonymous' },
      parseScopes([`repository:${repo('1')}:pull`, `repository:${repo('3')}:pull`]),
      lookup,
    );
    expect(granted).toEqual([{ type: 'repository', name: repo('3'), actions: ['pull'] }]);
  });

  it('gives a read token pull on every registry, private or public', async () => {
    const granted = await grantAccess(token(), parseScopes([`repository:${repo('1')}:pull`, `repository:${repo('2')}:pull`]), lookup);
    expect(granted.map((g) => g.name)).toEqual([repo('1'), repo('2')]);
  });

  it('drops registries a restricted token may not read, unless they are public', async () => {
    const granted = await grantAccess(
      token({ registryIds: ['1'] }),
      parseScopes([`repository:${repo('1')}:pull`, `repository:${repo('2')}:pull`, `repository:${repo('3')}:pull`]),
      lookup,
    );
    expect(granted.map((g) => g.name)).toEqual([repo('1'), repo('3')]);
  });

  it('grants nothing private to a token without the read scope', async () => {
    expect(await grantAccess(token({ scopes: ['admin'] }), parseScopes([`repository:${repo('1')}:pull`]), lookup)).toEqual([]);
  });

  it('grants pull only, never push or delete, and nothing for other names or unknown registries', async () => {
    const granted = await grantAccess(
      token(),
      parseScopes([
        `repository:${repo('1')}:pull,push,delete`,
        `repository:${repo('2')}:push`,
        'repository:library/alpine:pull',
        'registry:catalog:*',
      ]),
      lookup,
    );
    expect(granted).toEqual([{ type: 'repository', name: repo('1'), actions: ['pull'] }]);
    expect(await grantAccess({ kind: 'anonymous' }, parseScopes([`repository:${repo('99')}:pull`]), lookup)).toEqual([]);
  });

  it('lets a lookup failure through instead of handing out a token that silently lacks access', async () => {
    const down = async () => {
      throw Object.assign(new Error('catalog down'), { code: 'CATALOG_UNAVAILABLE' });
    };
    await expect(
      grantAccess({ kind: 'anonymous' }, parseScopes([`repository:${repo('3')}:pull`]), { visibilityOf: down, mirrorOf: down }),
    ).rejects.toMatchObject({
      code: 'CATALOG_UNAVAILABLE',
    });
  });

  it('grants a plain name (a root-path pull) under the name of the registry mirroring docker.io, with Docker Hub’s library/', async () => {
    const granted = await grantAccess(
      token({ registryIds: ['1'] }),
      parseScopes(['repository:library/alpine:pull', 'repository:busybox:pull', 'repository:org/app:pull']),
      mirrored(),
    );
    expect(granted.map((g) => g.name)).toEqual([repo('1'), repo('1', 'library/busybox'), repo('1', 'org/app')]);
    // alpine and library/alpine are one repository: granted once.
    expect(await grantAccess(token(), parseScopes(['repository:alpine:pull', 'repository:library/alpine:pull']), mirrored())).toHaveLength(
      1,
    );
  });

  it('grants nothing for a plain name while registry 1 is not the docker.io mirror, to a token limited to registry 1', async () => {
    const limited = token({ registryIds: ['1'] });
    expect(await grantAccess(limited, parseScopes(['repository:library/alpine:pull']), mirrored('2'))).toEqual([]);
    expect(await grantAccess(limited, parseScopes(['repository:library/alpine:pull']), lookup)).toEqual([]);
    // Public: anyone gets the mirror's images.
    expect((await grantAccess({ kind: 'anonymous' }, parseScopes(['repository:library/alpine:pull']), mirrored('3')))[0]?.name).toBe(
      repo('3'),
    );
  });

  it('drops plain names that are not repository names', async () => {
    expect(
      await grantAccess(token(), parseScopes(['repository:UPPER/case:pull', 'repository:virtual_registries/x:pull']), mirrored()),
    ).toEqual([]);
  });
});
