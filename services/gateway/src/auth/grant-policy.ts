import { AccessTokenScopes, type AccessTokenVerifyReply, type RegistryVisibility } from '@vreg/contracts';
import type { AccessEntry } from './registry-tokens.ts';
import { parseRepositoryName, type RequestedScope } from './repository-scope.ts';

/** Who asks for a token: nobody in particular, or the holder of a verified access token. */
export type Principal = { kind: 'anonymous' } | { kind: 'access-token'; token: AccessTokenVerifyReply };

/** The only action a virtual registry grants. */
export const PULL = 'pull';

/** The visibility of a registry, or undefined when there is no such registry. */
export type VisibilityLookup = (registryId: string) => Promise<RegistryVisibility | undefined>;

/** True when the principal's token may read the registry whatever its visibility. */
export function tokenCanRead(principal: Principal, registryId: string): boolean {
  if (principal.kind !== 'access-token') return false;
  const { scopes, registryIds } = principal.token;
  return scopes.includes(AccessTokenScopes.readVirtualRegistry) && (registryIds === undefined || registryIds.includes(registryId));
}

/**
 * What a token request gets: for each requested repository of a virtual
 * registry, `pull` when the registry is public or the principal's token
 * may read it. Everything else (other actions, other resource types,
 * registries the principal may not read, unknown registries) is dropped
 * from the grant without failing the request, as the token spec asks.
 * Lookup failures other than "no such registry" propagate (the catalog is
 * down: the client gets a 503, not a token that silently lacks access).
 */
export async function grantAccess(
  principal: Principal,
  requested: readonly RequestedScope[],
  visibilityOf: VisibilityLookup,
): Promise<AccessEntry[]> {
  const granted = new Map<string, AccessEntry>();
  for (const scope of requested) {
    if (scope.type !== 'repository' || !scope.actions.includes(PULL) || granted.has(scope.name)) continue;
    const target = parseRepositoryName(scope.name);
    if (target === undefined) continue;
    const allowed = tokenCanRead(principal, target.registryId) || (await visibilityOf(target.registryId)) === 'public';
    if (allowed) granted.set(scope.name, { type: 'repository', name: scope.name, actions: [PULL] });
  }
  return [...granted.values()];
}
