/**
 * How an admin route relates to registries. Every secured route declares
 * one in its `config.reach`; the auth hook (admin-auth.ts) enforces a
 * token's registry restriction from it alone, so a new route cannot forget
 * the check, and a route that declares nothing is refused to restricted
 * tokens (fail closed). The OpenAPI document shows it as `x-vreg-reach`.
 */
export const RouteReaches = {
  /** About the caller alone, no registry's data (`GET /session`, testing a candidate upstream). */
  caller: 'caller',
  /** Instance-wide (creating registries, GC, traffic across registries): refused to a restricted token. */
  global: 'global',
  /** A list across registries whose handler narrows it, in its query, to the caller's registries (`visibleRegistryIds`). */
  filtered: 'filtered',
  /** `:id` is a registry id. */
  registry: 'registry',
  /** `:id` is an upstream id: its registry decides. */
  upstream: 'upstream',
  /** `:id` is a cache entry id: its upstream's registry decides. */
  cacheEntry: 'cache_entry',
  /** `:id` is a job id: its registry decides; store-wide jobs (GC) are global. */
  job: 'job',
  /** `:id` is an access token id: the registries it is restricted to decide; an unrestricted token is global. */
  accessToken: 'access_token',
} as const;
export type RouteReach = (typeof RouteReaches)[keyof typeof RouteReaches];

/** Reaches whose `:id` names something that belongs to registries, found through a `RegistryLocator`. */
export type LocatedReach = Exclude<RouteReach, 'caller' | 'global' | 'filtered' | 'registry'>;

/** What the admin routes may carry in `config`. */
export interface AdminRouteConfig {
  /** One line for the OpenAPI document. */
  summary?: string;
  /** True for routes that need no admin token (the OpenAPI document). */
  public?: boolean;
  /** How the route relates to registries; required on every secured route. */
  reach?: RouteReach;
  /** Only tokens with the admin scope, even to read (access tokens are not for read-only sessions). */
  adminOnly?: boolean;
}

/** Finds the registries a located route's `:id` belongs to. */
export interface RegistryLocator {
  /**
   * The registry ids `id` (of the kind `reach` names) belongs to; undefined
   * when there is no such thing or it belongs to no registry in particular
   * (a GC job, an unrestricted access token).
   */
  registriesOf(reach: LocatedReach, id: string): Promise<readonly string[] | undefined>;
}

/** True when `value` is one of the declared reaches. */
export function isRouteReach(value: unknown): value is RouteReach {
  return typeof value === 'string' && (Object.values(RouteReaches) as string[]).includes(value);
}
