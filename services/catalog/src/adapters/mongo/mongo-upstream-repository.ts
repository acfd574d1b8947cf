import { NotFoundError } from '@vreg/contracts';
import type { AnyBulkWriteOperation, Collection, Db, UpdateFilter } from 'mongodb';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { NewUpstream, Upstream, UpstreamPatch } from '../../domain/upstream.ts';
import { planUpstreamOrder } from '../../domain/upstream-order.ts';
import type { UpstreamRepository } from '../../ports/upstream-repository.ts';
import { Collections, toUpstream, type UpstreamDocument } from './mongo-documents.ts';
import type { MongoIdAllocator } from './mongo-id-allocator.ts';

const NO_ID = { projection: { _id: 0 } } as const;

/**
 * Upstreams in the `upstreams` collection. Without transactions (FerretDB
 * has none) a move is several writes; `planUpstreamOrder` renumbers from
 * whatever order it finds, so two admin edits racing can at worst leave a
 * tie that the next edit of that registry straightens out. Readers sort by
 * (position, id) and always see one well-defined order.
 */
export class MongoUpstreamRepository implements UpstreamRepository {
  readonly #upstreams: Collection<UpstreamDocument>;
  readonly #ids: MongoIdAllocator;

  constructor(db: Db, ids: MongoIdAllocator) {
    this.#upstreams = db.collection<UpstreamDocument>(Collections.upstreams);
    this.#ids = ids;
  }

  async create(input: NewUpstream): Promise<Upstream> {
    const registryId = parseNumericId(input.registryId);
    if (registryId === undefined) throw new NotFoundError('registry not found');
    const now = new Date();
    const position = await this.#upstreams.countDocuments({ registry_id: registryId });
    const doc = await this.#ids.insertWithNewId(this.#upstreams, Collections.upstreams, (id) => ({
      id,
      registry_id: registryId,
      name: input.name,
      url: input.url,
      ...(input.username === undefined ? {} : { username: input.username }),
      ...(input.passwordSealed === undefined ? {} : { password_sealed: input.passwordSealed }),
      cache_validity_hours: input.cacheValidityHours,
      library_prefix: input.libraryPrefix === true,
      ...(input.maxBlobSizeBytes === undefined ? {} : { max_blob_size_bytes: input.maxBlobSizeBytes }),
      position,
      created_at: now,
      updated_at: now,
    }));
    if (input.position === undefined) return toUpstream(doc);
    await this.#reorder(registryId, { id: String(doc.id), to: input.position });
    return (await this.get(String(doc.id))) ?? toUpstream(doc);
  }

  async get(id: string): Promise<Upstream | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const doc = await this.#upstreams.findOne({ id: n }, NO_ID);
    return doc === null ? undefined : toUpstream(doc);
  }

  async listByRegistry(registryId: string): Promise<Upstream[]> {
    const n = parseNumericId(registryId);
    if (n === undefined) return [];
    const docs = await this.#upstreams.find({ registry_id: n }, NO_ID).sort({ position: 1, id: 1 }).toArray();
    return docs.map(toUpstream);
  }

  async update(id: string, patch: UpstreamPatch): Promise<Upstream | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const unset: Record<string, ''> = {};
    if (patch.username === null) unset.username = '';
    if (patch.passwordSealed === null) unset.password_sealed = '';
    if (patch.maxBlobSizeBytes === null) unset.max_blob_size_bytes = '';
    const update: UpdateFilter<UpstreamDocument> = {
      $set: {
        updated_at: new Date(),
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.url === undefined ? {} : { url: patch.url }),
        ...(patch.username == null ? {} : { username: patch.username }),
        ...(patch.passwordSealed == null ? {} : { password_sealed: patch.passwordSealed }),
        ...(patch.cacheValidityHours === undefined ? {} : { cache_validity_hours: patch.cacheValidityHours }),
        ...(patch.libraryPrefix === undefined ? {} : { library_prefix: patch.libraryPrefix }),
        ...(patch.maxBlobSizeBytes == null ? {} : { max_blob_size_bytes: patch.maxBlobSizeBytes }),
      },
      ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
    };
    const doc = await this.#upstreams.findOneAndUpdate({ id: n }, update, { returnDocument: 'after' });
    if (doc === null) return undefined;
    if (patch.position === undefined) return toUpstream(doc);
    await this.#reorder(doc.registry_id, { id, to: patch.position });
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    const doc = await this.#upstreams.findOneAndDelete({ id: n });
    if (doc === null) return false;
    await this.#reorder(doc.registry_id);
    return true;
  }

  async #reorder(registryId: number, move?: { id: string; to: number }): Promise<void> {
    const current = await this.#upstreams.find({ registry_id: registryId }, { projection: { _id: 0, id: 1, position: 1 } }).toArray();
    const changes = planUpstreamOrder(
      current.map((d) => ({ id: String(d.id), position: d.position })),
      move,
    );
    if (changes.length === 0) return;
    const ops: AnyBulkWriteOperation<UpstreamDocument>[] = changes.map((c) => ({
      updateOne: { filter: { id: Number(c.id) }, update: { $set: { position: c.position } } },
    }));
    await this.#upstreams.bulkWrite(ops, { ordered: false });
  }
}
