import { assertRegistryId, assertRepositoryName } from '@vreg/oci';

/** Repository names vreg serves start with this, then `<registry id>/<image>`. */
export const VIRTUAL_REGISTRY_PREFIX = 'virtual_registries/containers/';

/** One access request of the token spec: `repository:<name>:<action>[,<action>...]`. */
export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/** The repository name clients use for `image` of registry `registryId` (and that a token's `access` names). */
export function repositoryName(registryId: string, image: string): string {
  return `${VIRTUAL_REGISTRY_PREFIX}${registryId}/${image}`;
}

/** Registry id and image of a virtual registry repository name, or undefined for any other name. */
export function parseRepositoryName(name: string): { registryId: string; image: string } | undefined {
  if (!name.startsWith(VIRTUAL_REGISTRY_PREFIX)) return undefined;
  const rest = name.slice(VIRTUAL_REGISTRY_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const registryId = rest.slice(0, slash);
  const image = rest.slice(slash + 1);
  try {
    assertRegistryId(registryId);
    assertRepositoryName(image);
  } catch {
    return undefined;
  }
  return { registryId, image };
}

/**
 * Parses the `scope` values of a token request: each may hold several
 * space-separated scopes (the OAuth2 form does). The resource type is the
 * part before the first colon and the actions the part after the last one,
 * so names with a port or a colon-free path parse alike. Malformed scopes
 * are dropped: a token request never fails for its scopes.
 */
export function parseScopes(values: readonly string[]): RequestedScope[] {
  const out: RequestedScope[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last <= first + 1 || last === scope.length - 1) continue;
      const actions = scope
        .slice(last + 1)
        .split(',')
        .filter((a) => a !== '');
      if (actions.length === 0) continue;
      out.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions });
    }
  }
  return out.slice(0, 50);
}
