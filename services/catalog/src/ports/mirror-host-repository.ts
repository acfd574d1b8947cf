import type { MirrorHost } from '../domain/mirror-host.ts';

/** Which registry mirrors which upstream host. Hosts are unique: the store enforces it, not its callers. */
export interface MirrorHostRepository {
  /** The mirror of `host` (already normalised), or undefined. */
  findByHost(host: string): Promise<MirrorHost | undefined>;

  /** The hosts the registry mirrors, sorted by host. */
  listByRegistry(registryId: string): Promise<MirrorHost[]>;

  /** Every mirrored host, sorted by host (a handful per registry, bounded by `MIRROR_HOSTS_MAX`). */
  listAll(): Promise<MirrorHost[]>;

  /**
   * Makes `hosts` (normalised, without duplicates) the registry's whole set:
   * new ones are added, the others removed. Hosts the registry already has
   * keep their `createdAt`.
   * @throws ConflictError (detail `{ host, registryId }`) when a host belongs
   *   to another registry; then the registry's set is as it was.
   */
  replaceForRegistry(registryId: string, hosts: readonly string[]): Promise<MirrorHost[]>;

  /** Removes every host of the registry (it is being deleted); how many there were. */
  deleteByRegistry(registryId: string): Promise<number>;
}
