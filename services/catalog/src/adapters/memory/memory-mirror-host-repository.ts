import { byHost, type MirrorHost, mirrorHostTaken } from '../../domain/mirror-host.ts';
import type { MirrorHostRepository } from '../../ports/mirror-host-repository.ts';

/** Mirrored hosts in process memory: same contract as the SQLite and MongoDB stores. */
export class MemoryMirrorHostRepository implements MirrorHostRepository {
  readonly #rows = new Map<string, MirrorHost>();

  async findByHost(host: string): Promise<MirrorHost | undefined> {
    return this.#rows.get(host);
  }

  async listByRegistry(registryId: string): Promise<MirrorHost[]> {
    return [...this.#rows.values()].filter((m) => m.registryId === registryId).sort(byHost);
  }

  async listAll(): Promise<MirrorHost[]> {
    return [...this.#rows.values()].sort(byHost);
  }

  async replaceForRegistry(registryId: string, hosts: readonly string[]): Promise<MirrorHost[]> {
    for (const host of hosts) {
      const owner = this.#rows.get(host);
      if (owner !== undefined && owner.registryId !== registryId) throw mirrorHostTaken(host, owner.registryId);
    }
    const wanted = new Set(hosts);
    for (const [host, row] of this.#rows) if (row.registryId === registryId && !wanted.has(host)) this.#rows.delete(host);
    const now = new Date();
    for (const host of hosts) if (!this.#rows.has(host)) this.#rows.set(host, { host, registryId, createdAt: now });
    return this.listByRegistry(registryId);
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    let n = 0;
    for (const [host, row] of this.#rows) {
      if (row.registryId !== registryId) continue;
      this.#rows.delete(host);
      n++;
    }
    return n;
  }
}
