import type Database from 'better-sqlite3';
import { type MirrorHost, mirrorHostTaken } from '../../domain/mirror-host.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import type { MirrorHostRepository } from '../../ports/mirror-host-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface Row {
  host: string;
  registry_id: number;
  created_at: string;
}

function toMirrorHost(row: Row): MirrorHost {
  return { host: row.host, registryId: String(row.registry_id), createdAt: fromSqlTime(row.created_at) };
}

/** Mirrored hosts in the embedded catalog; the host is the table's primary key. */
export class SqliteMirrorHostRepository implements MirrorHostRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async findByHost(host: string): Promise<MirrorHost | undefined> {
    const row = this.#db.prepare<[string], Row>('SELECT * FROM mirror_hosts WHERE host = ?').get(host);
    return row === undefined ? undefined : toMirrorHost(row);
  }

  async listByRegistry(registryId: string): Promise<MirrorHost[]> {
    const id = parseNumericId(registryId);
    if (id === undefined) return [];
    return this.#db.prepare<[number], Row>('SELECT * FROM mirror_hosts WHERE registry_id = ? ORDER BY host').all(id).map(toMirrorHost);
  }

  async listAll(): Promise<MirrorHost[]> {
    return this.#db.prepare<[], Row>('SELECT * FROM mirror_hosts ORDER BY host').all().map(toMirrorHost);
  }

  async replaceForRegistry(registryId: string, hosts: readonly string[]): Promise<MirrorHost[]> {
    const id = parseNumericId(registryId);
    if (id === undefined) return [];
    const owner = this.#db.prepare<[string], { registry_id: number }>('SELECT registry_id FROM mirror_hosts WHERE host = ?');
    const insert = this.#db.prepare('INSERT OR IGNORE INTO mirror_hosts (host, registry_id, created_at) VALUES (?, ?, ?)');
    const current = this.#db.prepare<[number], { host: string }>('SELECT host FROM mirror_hosts WHERE registry_id = ?');
    const remove = this.#db.prepare('DELETE FROM mirror_hosts WHERE host = ? AND registry_id = ?');
    // One transaction: the check and the writes see the same table, and a refusal leaves it untouched.
    this.#db.transaction(() => {
      for (const host of hosts) {
        const taken = owner.get(host);
        if (taken !== undefined && taken.registry_id !== id) throw mirrorHostTaken(host, String(taken.registry_id));
      }
      const wanted = new Set(hosts);
      for (const { host } of current.all(id)) if (!wanted.has(host)) remove.run(host, id);
      const now = toSqlTime(new Date());
      for (const host of hosts) insert.run(host, id, now);
    })();
    return this.listByRegistry(registryId);
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    const id = parseNumericId(registryId);
    if (id === undefined) return 0;
    return this.#db.prepare('DELETE FROM mirror_hosts WHERE registry_id = ?').run(id).changes;
  }
}
