import type { Collection, Db } from 'mongodb';
import { Collections, type CounterDocument, isDuplicateKey } from './mongo-documents.ts';

/** How many fresh ids an insert tries before giving up. */
const MAX_ATTEMPTS = 10;

/**
 * Hands out small integer ids from the `counters` collection
 * (`findOneAndUpdate` + `$inc` + upsert).
 *
 * On MongoDB the `$inc` is atomic. FerretDB (SQLite backend) applies updates
 * as read-modify-write, so two concurrent allocations can get the same
 * number; the unique index on `id` catches that and `insertWithNewId` takes
 * the next number. Ids are never reused after a delete.
 */
export class MongoIdAllocator {
  readonly #counters: Collection<CounterDocument>;

  constructor(db: Db) {
    this.#counters = db.collection<CounterDocument>(Collections.counters);
  }

  /** The next number of `sequence` (1 for the first). */
  async next(sequence: string): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const doc = await this.#counters.findOneAndUpdate(
          { _id: sequence },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        if (doc === null) throw new Error(`counter ${sequence} was not returned`);
        return doc.seq;
      } catch (err) {
        // Two first-ever allocations both try to insert the counter; the
        // loser's retry finds it and increments it.
        if (!isDuplicateKey(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Inserts `build(id)` with a fresh id of `sequence`, retrying with the
   * next id while the insert hits a duplicate key that `otherConflict` does
   * not explain. `otherConflict` runs after a duplicate key and throws the
   * caller's own error (a taken name) when that was the cause.
   */
  async insertWithNewId<T extends { id: number }>(
    collection: Collection<T>,
    sequence: string,
    build: (id: number) => T,
    otherConflict: () => Promise<void> = async () => {},
  ): Promise<T> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const doc = build(await this.next(sequence));
      try {
        // The driver adds `_id` to the object it inserts; insert a copy so
        // the caller's document stays free of it.
        await collection.insertOne({ ...doc } as Parameters<typeof collection.insertOne>[0]);
        return doc;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await otherConflict();
      }
    }
    throw new Error(`could not allocate a free ${sequence} id after ${MAX_ATTEMPTS} attempts`);
  }
}
