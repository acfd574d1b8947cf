import type { NewUpstream, Upstream, UpstreamPatch } from '../domain/upstream.ts';

/**
 * Stores upstreams and keeps each registry's list ordered: positions are
 * 0..n-1 after every create, move and delete (see `planUpstreamOrder`).
 * Deleting an upstream does not touch its cache entries: `CatalogAdmin` cascades.
 */
export interface UpstreamRepository {
  /**
   * Creates an upstream with the next free id, at `input.position` (later
   * ones shift down) or appended when absent. Does not check that the
   * registry exists: callers do.
   */
  create(input: NewUpstream): Promise<Upstream>;

  /** The upstream with this id, or undefined. */
  get(id: string): Promise<Upstream | undefined>;

  /** The registry's upstreams ordered by position (empty for an unknown registry). */
  listByRegistry(registryId: string): Promise<Upstream[]>;

  /**
   * Applies the patch and bumps `updatedAt`; a new `position` moves the
   * upstream (clamped to the list) and renumbers the others. Undefined when
   * there is no such upstream.
   */
  update(id: string, patch: UpstreamPatch): Promise<Upstream | undefined>;

  /** Deletes the upstream and closes the gap in its registry's order; true when it existed. */
  delete(id: string): Promise<boolean>;
}
