import { NotFoundError } from '@vreg/contracts';
import type Database from 'better-sqlite3';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { NewUpstream, Upstream, UpstreamPatch } from '../../domain/upstream.ts';
import { planUpstreamOrder } from '../../domain/upstream-order.ts';
import type { UpstreamRepository } from '../../ports/upstream-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface UpstreamRow {
  id: number;
  registry_id: number;
  name: string;
  url: string;
  username: string | null;
  password_sealed: string | null;
  cache_validity_hours: number;
  library_prefix: number;
  max_blob_size_bytes: number | null;
  position: number;
  created_at: string;
  updated_at: string;
}

function toUpstream(row: UpstreamRow): Upstream {
  return {
    id: String(row.id),
    registryId: String(row.registry_id),
    name: row.name,
    url: row.url,
    ...(row.username === null ? {} : { username: row.username }),
    ...(row.password_sealed === null ? {} : { passwordSealed: row.password_sealed }),
    cacheValidityHours: row.cache_validity_hours,
    libraryPrefix: row.library_prefix === 1,
    ...(row.max_blob_size_bytes === null ? {} : { maxBlobSizeBytes: row.max_blob_size_bytes }),
    position: row.position,
    createdAt: fromSqlTime(row.created_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

/**
 * Upstreams in the `upstreams` table. Every create, move and delete runs in
 * one SQLite transaction with the renumbering, so the order is never seen
 * half-written.
 */
export class SqliteUpstreamRepository implements UpstreamRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async create(input: NewUpstream): Promise<Upstream> {
    const registryId = parseNumericId(input.registryId);
    if (registryId === undefined) throw new NotFoundError('registry not found');
    const now = toSqlTime(new Date());
    const row = this.#db.transaction(() => {
      const { n } = this.#db
        .prepare<[number], { n: number }>('SELECT count(*) AS n FROM upstreams WHERE registry_id = ?')
        .get(registryId) as { n: number };
      const inserted = this.#db
        .prepare<unknown[], UpstreamRow>(
          `INSERT INTO upstreams (registry_id, name, url, username, password_sealed, cache_validity_hours, library_prefix, max_blob_size_bytes, position, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          registryId,
          input.name,
          input.url,
          input.username ?? null,
          input.passwordSealed ?? null,
          input.cacheValidityHours,
          input.libraryPrefix ? 1 : 0,
          input.maxBlobSizeBytes ?? null,
          n,
          now,
          now,
        ) as UpstreamRow;
      if (input.position !== undefined) this.#reorder(registryId, { id: String(inserted.id), to: input.position });
      return this.#row(inserted.id);
    })();
    return toUpstream(row as UpstreamRow);
  }

  async get(id: string): Promise<Upstream | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const row = this.#row(n);
    return row === undefined ? undefined : toUpstream(row);
  }

  async listByRegistry(registryId: string): Promise<Upstream[]> {
    const n = parseNumericId(registryId);
    if (n === undefined) return [];
    return this.#db
      .prepare<[number], UpstreamRow>('SELECT * FROM upstreams WHERE registry_id = ? ORDER BY position, id')
      .all(n)
      .map(toUpstream);
  }

  async update(id: string, patch: UpstreamPatch): Promise<Upstream | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const row = this.#db.transaction(() => {
      const current = this.#row(n);
      if (current === undefined) return undefined;
      const keep = <T>(value: T | null | undefined, old: T | null): T | null => (value === null ? null : (value ?? old));
      this.#db
        .prepare(
          `UPDATE upstreams SET name = ?, url = ?, username = ?, password_sealed = ?, cache_validity_hours = ?, library_prefix = ?, max_blob_size_bytes = ?, updated_at = ?
           WHERE id = ?`,
        )
        .run(
          patch.name ?? current.name,
          patch.url ?? current.url,
          keep(patch.username, current.username),
          keep(patch.passwordSealed, current.password_sealed),
          patch.cacheValidityHours ?? current.cache_validity_hours,
          patch.libraryPrefix === undefined ? current.library_prefix : patch.libraryPrefix ? 1 : 0,
          keep(patch.maxBlobSizeBytes, current.max_blob_size_bytes),
          toSqlTime(new Date()),
          n,
        );
      if (patch.position !== undefined) this.#reorder(current.registry_id, { id, to: patch.position });
      return this.#row(n);
    })();
    return row === undefined ? undefined : toUpstream(row);
  }

  async delete(id: string): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    return this.#db.transaction(() => {
      const row = this.#db.prepare<[number], UpstreamRow>('DELETE FROM upstreams WHERE id = ? RETURNING *').get(n);
      if (row === undefined) return false;
      this.#reorder(row.registry_id);
      return true;
    })();
  }

  #row(id: number): UpstreamRow | undefined {
    return this.#db.prepare<[number], UpstreamRow>('SELECT * FROM upstreams WHERE id = ?').get(id);
  }

  /** Must run inside the caller's transaction. */
  #reorder(registryId: number, move?: { id: string; to: number }): void {
    const current = this.#db
      .prepare<[number], { id: number; position: number }>('SELECT id, position FROM upstreams WHERE registry_id = ?')
      .all(registryId)
      .map((r) => ({ id: String(r.id), position: r.position }));
    const setPosition = this.#db.prepare('UPDATE upstreams SET position = ? WHERE id = ?');
    for (const change of planUpstreamOrder(current, move)) setPosition.run(change.position, Number(change.id));
  }
}
