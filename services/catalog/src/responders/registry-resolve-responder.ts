import type { EventBus, Subscription } from '@vreg/bus';
import {
  NameUnknownError,
  type RegistryResolveRequest,
  RegistryResolveRequestSchema,
  type RegistryView,
  Subjects,
  type UpstreamView,
} from '@vreg/contracts';
import type { Upstream } from '../domain/upstream.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';

/** An upstream as the data plane sees it: the password stays sealed. */
export function toUpstreamView(upstream: Upstream): UpstreamView {
  return {
    id: upstream.id,
    name: upstream.name,
    url: upstream.url,
    position: upstream.position,
    ...(upstream.username === undefined ? {} : { username: upstream.username }),
    ...(upstream.passwordSealed === undefined ? {} : { passwordSealed: upstream.passwordSealed }),
    cacheValidityHours: upstream.cacheValidityHours,
    libraryPrefix: upstream.libraryPrefix,
    ...(upstream.maxBlobSizeBytes === undefined ? {} : { maxBlobSizeBytes: upstream.maxBlobSizeBytes }),
  };
}

/**
 * Answers `vreg.catalog.registry.resolve`: a registry and its upstreams in
 * order, passwords sealed (only holders of the secrets key open them).
 * Catalog replicas share the subject as a queue group.
 */
export class RegistryResolveResponder {
  readonly #store: CatalogStore;

  constructor(deps: { store: CatalogStore }) {
    this.#store = deps.store;
  }

  /** Starts answering; stop the returned subscription to stop. */
  start(bus: EventBus): Promise<Subscription> {
    return bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, this.handle);
  }

  /** @throws NameUnknownError when there is no such registry (a NAME_UNKNOWN reply). */
  readonly handle = async (request: RegistryResolveRequest): Promise<RegistryView> => {
    const [registry, upstreams, policy] = await Promise.all([
      this.#store.registries.get(request.registryId),
      this.#store.upstreams.listByRegistry(request.registryId),
      this.#store.pullPolicies.get(request.registryId),
    ]);
    if (registry === undefined) throw new NameUnknownError('registry not found', { registryId: request.registryId });
    return {
      id: registry.id,
      name: registry.name,
      visibility: registry.visibility,
      upstreams: upstreams.map(toUpstreamView),
      // With the registry, so a gateway's cached resolution carries its policy: a hit asks nothing more.
      ...(policy === undefined ? {} : { policy: policy.policy }),
    };
  };
}
