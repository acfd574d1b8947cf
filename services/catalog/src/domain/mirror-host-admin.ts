import { MIRROR_HOSTS_MAX, NotFoundError, normalizeMirrorHost, ValidationError } from '@vreg/contracts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { MirrorHost } from './mirror-host.ts';

/**
 * The administrator's use cases over mirror routing: which upstream hosts a
 * registry mirrors. Names are normalised here (`Index.Docker.io` is
 * `docker.io`), so the store, the gateway and the CLI all see one spelling;
 * uniqueness across registries is the store's to enforce.
 */
export class MirrorHostAdmin {
  readonly #store: Pick<CatalogStore, 'registries' | 'mirrorHosts'>;

  constructor(store: Pick<CatalogStore, 'registries' | 'mirrorHosts'>) {
    this.#store = store;
  }

  /** @throws NotFoundError when there is no such registry. */
  async hostsOf(registryId: string): Promise<MirrorHost[]> {
    await this.#existing(registryId);
    return this.#store.mirrorHosts.listByRegistry(registryId);
  }

  /**
   * Makes `hosts` the registry's whole set (an empty list stops mirroring).
   * @throws NotFoundError (registry), ValidationError (a value that is no host name, too many), ConflictError (a host of another registry)
   */
  async setHosts(registryId: string, hosts: readonly string[]): Promise<MirrorHost[]> {
    await this.#existing(registryId);
    const normalised = new Set<string>();
    for (const value of hosts) {
      const host = normalizeMirrorHost(value);
      if (host === undefined)
        throw new ValidationError(
          `${JSON.stringify(value)} is not a registry host name (e.g. docker.io, ghcr.io, registry.example.com:5000)`,
          {
            field: 'hosts',
          },
        );
      normalised.add(host);
    }
    if (normalised.size > MIRROR_HOSTS_MAX)
      throw new ValidationError(`a registry mirrors at most ${MIRROR_HOSTS_MAX} hosts`, { field: 'hosts' });
    return this.#store.mirrorHosts.replaceForRegistry(registryId, [...normalised].sort());
  }

  /**
   * Every mirrored host and its registry, sorted by host; with `registryIds`
   * (a restricted token's reach) only those registries' hosts, read by registry.
   */
  async list(filter: { registryIds?: readonly string[] } = {}): Promise<MirrorHost[]> {
    if (filter.registryIds === undefined) return this.#store.mirrorHosts.listAll();
    const per = await Promise.all(filter.registryIds.map((id) => this.#store.mirrorHosts.listByRegistry(id)));
    return per.flat().sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  /** The registry mirroring `host` (any spelling), or undefined. */
  async registryFor(host: string): Promise<string | undefined> {
    const normalised = normalizeMirrorHost(host);
    if (normalised === undefined) return undefined;
    return (await this.#store.mirrorHosts.findByHost(normalised))?.registryId;
  }

  async #existing(registryId: string): Promise<void> {
    if ((await this.#store.registries.get(registryId)) === undefined) throw new NotFoundError('registry not found', { registryId });
  }
}
