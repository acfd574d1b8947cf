import {
  AccessTokenScopes,
  type AccessTokenVerifyReply,
  DOCKER_HUB_HOST,
  mirroredImageName,
  type RegistryVisibility,
} from '@vreg/contracts';
import { isRepositoryName } from '@vreg/oci';
import type { AccessEntry } from './registry-tokens.ts';
import { parseRepositoryName, type RequestedScope, repositoryName } from './repository-scope.ts';

/** Who asks for a token: nobody in particular, or the holder of a verified access token. */
export type Principal = { kind: 'anonymous' } | { kind: 'access-token'; token: AccessTokenVerifyReply };

/** The only action a virtual registry grants. */
export const PULL = 'pull';

/** The visibility of a registry, or undefined when there is no such registry. */
export type VisibilityLookup = (registryId: string) => Promise<RegistryVisibility | undefined>;

/** The registry mirroring an upstream host, or undefined when none does. */
export type MirrorLookup = (host: string) => Promise<string | undefined>;

/** What deciding a grant needs to look up. */
export interface GrantLookups {
  visibilityOf: VisibilityLookup;
  mirrorOf: MirrorLookup;
}

/** True when the principal's token may read the registry whatever its visibility. */
export function tokenCanRead(principal: Principal, registryId: string): boolean {
  if (principal.kind !== 'access-token') return false;
  const { scopes, registryIds } = principal.token;
  return scopes.includes(AccessTokenScopes.readVirtualRegistry) && (registryIds === undefined || registryIds.includes(registryId));
}

/**
 * The registry and image a requested repository name means: a virtual
 * registry's own name (`virtual_registries/containers/<id>/<image>`), or a
 * plain name (`library/alpine`, `alpine`) as clients ask for pulls at the
 * root path. A plain name carries no host (the token request has no `ns`),
 * so it means what a root pull without `ns` means: Docker Hub's image, from
 * the registry mirroring docker.io.
 */
async function targetOf(name: string, mirrorOf: MirrorLookup): Promise<{ registryId: string; image: string } | undefined> {
  const prefixed = parseRepositoryName(name);
  if (prefixed !== undefined) return prefixed;
  if (name.startsWith('virtual_registries/') || !isRepositoryName(name)) return undefined;
  const registryId = await mirrorOf(DOCKER_HUB_HOST);
  return registryId === undefined ? undefined : { registryId, image: mirroredImageName(DOCKER_HUB_HOST, name) };
}

/**
 * What a token request gets: for each requested repository, `pull` when
 * its registry is public or the principal's token may read it, granted
 * under the registry's own name (`virtual_registries/containers/<id>/<image>`),
 * which is the name every pull is checked against. So a plain name is
 * granted only for the registry mirroring docker.io when the token is
 * issued, and a token limited to registry 1 pulls at the root only while
 * registry 1 is the mirror. Everything else (other actions, other resource
 * types, registries the principal may not read, unknown registries, names
 * no registry mirrors) is dropped from the grant without failing the
 * request, as the token spec asks. Lookup failures other than "no such
 * registry" propagate (the catalog is down: the client gets a 503, not a
 * token that silently lacks access).
 */
export async function grantAccess(
  principal: Principal,
  requested: readonly RequestedScope[],
  lookups: GrantLookups,
): Promise<AccessEntry[]> {
  const granted = new Map<string, AccessEntry>();
  for (const scope of requested) {
    if (scope.type !== 'repository' || !scope.actions.includes(PULL)) continue;
    const target = await targetOf(scope.name, lookups.mirrorOf);
    if (target === undefined) continue;
    const name = repositoryName(target.registryId, target.image);
    if (granted.has(name)) continue;
    const allowed = tokenCanRead(principal, target.registryId) || (await lookups.visibilityOf(target.registryId)) === 'public';
    if (allowed) granted.set(name, { type: 'repository', name, actions: [PULL] });
  }
  return [...granted.values()];
}
