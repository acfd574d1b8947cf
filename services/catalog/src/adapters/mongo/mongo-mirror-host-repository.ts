import type { Collection, Db } from 'mongodb';
import { type MirrorHost, mirrorHostTaken } from '../../domain/mirror-host.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { MirrorHostRepository } from '../../ports/mirror-host-repository.ts';
import { Collections, isDuplicateKey } from './mongo-documents.ts';

/** One mirrored host; `host` is unique (index `host_unique`). */
export interface MirrorHostDocument {
  host: string;
  registry_id: number;
  created_at: Date;
}

const NO_ID = { projection: { _id: 0 } } as const;

function toMirrorHost(doc: MirrorHostDocument): MirrorHost {
  return { host: doc.host, registryId: String(doc.registry_id), createdAt: doc.created_at };
}

/**
 * Mirrored hosts on a MongoDB-wire server. Without transactions the unique
 * index decides: a host is inserted, and an insert that collides with
 * another registry's host undoes this call's own inserts before refusing,
 * so two admins racing for a host never both get it.
 */
export class MongoMirrorHostRepository implements MirrorHostRepository {
  readonly #hosts: Collection<MirrorHostDocument>;

  constructor(db: Db) {
    this.#hosts = db.collection<MirrorHostDocument>(Collections.mirrorHosts);
  }

  async findByHost(host: string): Promise<MirrorHost | undefined> {
    const doc = await this.#hosts.findOne({ host }, NO_ID);
    return doc === null ? undefined : toMirrorHost(doc);
  }

  async listByRegistry(registryId: string): Promise<MirrorHost[]> {
    const id = parseNumericId(registryId);
    if (id === undefined) return [];
    return (await this.#hosts.find({ registry_id: id }, NO_ID).sort({ host: 1 }).toArray()).map(toMirrorHost);
  }

  async listAll(): Promise<MirrorHost[]> {
    return (await this.#hosts.find({}, NO_ID).sort({ host: 1 }).toArray()).map(toMirrorHost);
  }

  async replaceForRegistry(registryId: string, hosts: readonly string[]): Promise<MirrorHost[]> {
    const id = parseNumericId(registryId);
    if (id === undefined) return [];
    const inserted: string[] = [];
    const now = new Date();
    for (const host of hosts) {
      try {
        await this.#hosts.insertOne({ host, registry_id: id, created_at: now });
        inserted.push(host);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const owner = await this.#hosts.findOne({ host }, NO_ID);
        if (owner === null || owner.registry_id === id) continue; // ours already (or just released: the next call settles it)
        if (inserted.length > 0) await this.#hosts.deleteMany({ registry_id: id, host: { $in: inserted } });
        throw mirrorHostTaken(host, String(owner.registry_id));
      }
    }
    await this.#hosts.deleteMany({ registry_id: id, host: { $nin: [...hosts] } });
    return this.listByRegistry(registryId);
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    const id = parseNumericId(registryId);
    if (id === undefined) return 0;
    return (await this.#hosts.deleteMany({ registry_id: id })).deletedCount;
  }
}
