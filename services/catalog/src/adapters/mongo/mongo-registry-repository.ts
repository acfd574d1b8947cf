import { ConflictError } from '@vreg/contracts';
import type { Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import {
  DEFAULT_REGISTRY_VISIBILITY,
  type NewRegistry,
  type Registry,
  type RegistryFilter,
  type RegistryPatch,
} from '../../domain/registry.ts';
import type { RegistryRepository } from '../../ports/registry-repository.ts';
import { Collections, isDuplicateKey, type RegistryDocument, toRegistry } from './mongo-documents.ts';
import type { MongoIdAllocator } from './mongo-id-allocator.ts';

const NO_ID = { projection: { _id: 0 } } as const;

function nameTaken(): ConflictError {
  return new ConflictError('a registry with this name already exists', { field: 'name' });
}

/** Registries in the `registries` collection (unique indexes on `id` and `name`). */
export class MongoRegistryRepository implements RegistryRepository {
  readonly #registries: Collection<RegistryDocument>;
  readonly #ids: MongoIdAllocator;

  constructor(db: Db, ids: MongoIdAllocator) {
    this.#registries = db.collection<RegistryDocument>(Collections.registries);
    this.#ids = ids;
  }

  async create(input: NewRegistry): Promise<Registry> {
    const now = new Date();
    const doc = await this.#ids.insertWithNewId(
      this.#registries,
      Collections.registries,
      (id) => ({
        id,
        name: input.name,
        ...(input.description === undefined ? {} : { description: input.description }),
        visibility: input.visibility ?? DEFAULT_REGISTRY_VISIBILITY,
        ...(input.maxStoredBytes === undefined ? {} : { max_stored_bytes: input.maxStoredBytes }),
        created_at: now,
        updated_at: now,
      }),
      // FerretDB's E11000 does not say which index fired: look for the name.
      async () => {
        if ((await this.#registries.countDocuments({ name: input.name }, { limit: 1 })) > 0) throw nameTaken();
      },
    );
    return toRegistry(doc);
  }

  async get(id: string): Promise<Registry | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const doc = await this.#registries.findOne({ id: n }, NO_ID);
    return doc === null ? undefined : toRegistry(doc);
  }

  async list(page: PageRequest, filter: RegistryFilter = {}): Promise<Page<Registry>> {
    const query: Filter<RegistryDocument> =
      filter.ids === undefined ? {} : { id: { $in: filter.ids.map(parseNumericId).filter((n): n is number => n !== undefined) } };
    const [docs, total] = await Promise.all([
      this.#registries.find(query, NO_ID).sort({ id: 1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#registries.countDocuments(query),
    ]);
    return { items: docs.map(toRegistry), total };
  }

  async update(id: string, patch: RegistryPatch): Promise<Registry | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const update: UpdateFilter<RegistryDocument> = {
      $set: {
        updated_at: new Date(),
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.description == null ? {} : { description: patch.description }),
        ...(patch.visibility === undefined ? {} : { visibility: patch.visibility }),
        ...(patch.maxStoredBytes == null ? {} : { max_stored_bytes: patch.maxStoredBytes }),
      },
      ...(patch.description === null || patch.maxStoredBytes === null
        ? {
            $unset: {
              ...(patch.description === null ? { description: '' as const } : {}),
              ...(patch.maxStoredBytes === null ? { max_stored_bytes: '' as const } : {}),
            },
          }
        : {}),
    };
    try {
      const doc = await this.#registries.findOneAndUpdate({ id: n }, update, { returnDocument: 'after' });
      return doc === null ? undefined : toRegistry(doc);
    } catch (err) {
      // `name` is the only unique field an update can touch.
      if (isDuplicateKey(err)) throw nameTaken();
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    return (await this.#registries.deleteOne({ id: n })).deletedCount > 0;
  }
}
