import type { Page, PageRequest } from '../domain/page.ts';
import type { NewRegistry, Registry, RegistryFilter, RegistryPatch } from '../domain/registry.ts';

/** Stores virtual registries. Deleting one does not touch its upstreams: `CatalogAdmin` cascades. */
export interface RegistryRepository {
  /**
   * Creates a registry with the next free id and `createdAt = updatedAt = now`.
   * @throws ConflictError when another registry has the name.
   */
  create(input: NewRegistry): Promise<Registry>;

  /** The registry with this id, or undefined (also for ids that are not positive integers). */
  get(id: string): Promise<Registry | undefined>;

  /**
   * One page of the registries matching `filter`, ordered by id, and their
   * total count. The filter is applied in the query, before paging, so the
   * total and the pages count only what it matches.
   */
  list(page: PageRequest, filter?: RegistryFilter): Promise<Page<Registry>>;

  /**
   * Applies the patch and bumps `updatedAt`; undefined when there is no such registry.
   * @throws ConflictError when the new name belongs to another registry.
   */
  update(id: string, patch: RegistryPatch): Promise<Registry | undefined>;

  /** Deletes the registry document only; true when it existed. */
  delete(id: string): Promise<boolean>;
}
