import type { RegistryVisibility } from '@vreg/contracts';
import { ConflictError } from '@vreg/contracts';
import type Database from 'better-sqlite3';
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
import { fromSqlTime, isUniqueViolation, toSqlTime } from './sqlite-schema.ts';

interface RegistryRow {
  id: number;
  name: string;
  description: string | null;
  visibility: RegistryVisibility;
  max_stored_bytes: number | null;
  created_at: string;
  updated_at: string;
}

function toRegistry(row: RegistryRow): Registry {
  return {
    id: String(row.id),
    name: row.name,
    ...(row.description === null ? {} : { description: row.description }),
    visibility: row.visibility,
    ...(row.max_stored_bytes === null ? {} : { maxStoredBytes: row.max_stored_bytes }),
    createdAt: fromSqlTime(row.created_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

function nameTaken(): ConflictError {
  return new ConflictError('a registry with this name already exists', { field: 'name' });
}

/** Registries in the `registries` table; ids from AUTOINCREMENT, never reused. */
export class SqliteRegistryRepository implements RegistryRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async create(input: NewRegistry): Promise<Registry> {
    const now = toSqlTime(new Date());
    try {
      const row = this.#db
        .prepare<[string, string | null, string, number | null, string, string], RegistryRow>(
          'INSERT INTO registries (name, description, visibility, max_stored_bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
        )
        .get(
          input.name,
          input.description ?? null,
          input.visibility ?? DEFAULT_REGISTRY_VISIBILITY,
          input.maxStoredBytes ?? null,
          now,
          now,
        );
      return toRegistry(row as RegistryRow);
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken();
      throw err;
    }
  }

  async get(id: string): Promise<Registry | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const row = this.#db.prepare<[number], RegistryRow>('SELECT * FROM registries WHERE id = ?').get(n);
    return row === undefined ? undefined : toRegistry(row);
  }

  async list(page: PageRequest, filter: RegistryFilter = {}): Promise<Page<Registry>> {
    // One bound JSON array whatever the number of ids; ids that are not numbers match nothing.
    const ids = filter.ids?.map(parseNumericId).filter((n): n is number => n !== undefined);
    const where = ids === undefined ? '' : 'WHERE id IN (SELECT value FROM json_each(?))';
    const args = ids === undefined ? [] : [JSON.stringify(ids)];
    const rows = this.#db
      .prepare<unknown[], RegistryRow>(`SELECT * FROM registries ${where} ORDER BY id LIMIT ? OFFSET ?`)
      .all(...args, page.perPage, pageOffset(page));
    const { total } = this.#db.prepare<unknown[], { total: number }>(`SELECT count(*) AS total FROM registries ${where}`).get(...args) as {
      total: number;
    };
    return { items: rows.map(toRegistry), total };
  }

  async update(id: string, patch: RegistryPatch): Promise<Registry | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    // COALESCE keeps a column the patch does not mention; a separate flag
    // tells "remove the description" (null) apart from "leave it" (absent).
    try {
      const row = this.#db
        .prepare<[string | null, number, string | null, string | null, number, number | null, string, number], RegistryRow>(
          `UPDATE registries SET
             name = COALESCE(?, name),
             description = CASE WHEN ? THEN NULL ELSE COALESCE(?, description) END,
             visibility = COALESCE(?, visibility),
             max_stored_bytes = CASE WHEN ? THEN NULL ELSE COALESCE(?, max_stored_bytes) END,
             updated_at = ?
           WHERE id = ? RETURNING *`,
        )
        .get(
          patch.name ?? null,
          patch.description === null ? 1 : 0,
          patch.description ?? null,
          patch.visibility ?? null,
          patch.maxStoredBytes === null ? 1 : 0,
          patch.maxStoredBytes ?? null,
          toSqlTime(new Date()),
          n,
        );
      return row === undefined ? undefined : toRegistry(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken();
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    return this.#db.prepare('DELETE FROM registries WHERE id = ?').run(n).changes > 0;
  }
}
