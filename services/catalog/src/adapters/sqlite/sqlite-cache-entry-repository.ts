import { ValidationError } from '@vreg/contracts';
import type Database from 'better-sqlite3';
import type {
  ActivityPageQuery,
  CacheEntry,
  CacheEntryKey,
  CacheEntryListQuery,
  CacheEntrySelector,
  CacheEntrySort,
  CacheEntryStatus,
  CacheEntryWrite,
  EntryTotals,
  UpsertOutcome,
  UpstreamLiveUsage,
} from '../../domain/cache-entry.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { CacheEntryRepository } from '../../ports/cache-entry-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface CacheEntryRow {
  upstream_id: number;
  registry_id: number;
  relative_path: string;
  digest: string;
  content_type: string;
  size: number;
  upstream_etag: string | null;
  upstream_checked_at: string;
  downloads_count: number;
  downloaded_at: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

function toCacheEntry(row: CacheEntryRow): CacheEntry {
  return {
    upstreamId: String(row.upstream_id),
    registryId: String(row.registry_id),
    relativePath: row.relative_path,
    digest: row.digest,
    contentType: row.content_type,
    size: row.size,
    ...(row.upstream_etag === null ? {} : { upstreamEtag: row.upstream_etag }),
    upstreamCheckedAt: fromSqlTime(row.upstream_checked_at),
    downloadsCount: row.downloads_count,
    ...(row.downloaded_at === null ? {} : { downloadedAt: fromSqlTime(row.downloaded_at) }),
    status: row.status as CacheEntryStatus,
    createdAt: fromSqlTime(row.created_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

const ORDER_BY: Record<CacheEntrySort, string> = {
  relative_path: 'relative_path ASC, upstream_id ASC',
  '-relative_path': 'relative_path DESC, upstream_id ASC',
  size: 'size ASC, relative_path ASC, upstream_id ASC',
  '-size': 'size DESC, relative_path ASC, upstream_id ASC',
  downloaded_at: 'downloaded_at ASC, relative_path ASC, upstream_id ASC',
  '-downloaded_at': 'downloaded_at DESC, relative_path ASC, upstream_id ASC',
};

/** An entry's last activity (`lastActivityOf`), as the expression the activity index is built on. */
const LAST_ACTIVITY = 'coalesce(downloaded_at, created_at)';

/** The selector as SQL conditions, or undefined when an id in it can match nothing. */
function whereOf(selector: CacheEntrySelector): { sql: string[]; args: unknown[] } | undefined {
  const sql: string[] = [];
  const args: unknown[] = [];
  for (const [column, id] of [
    ['registry_id', selector.registryId],
    ['upstream_id', selector.upstreamId],
  ] as const) {
    if (id === undefined) continue;
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    sql.push(`${column} = ?`);
    args.push(n);
  }
  if (selector.status !== undefined) {
    sql.push('status = ?');
    args.push(selector.status);
  }
  if (selector.pathPrefix !== undefined) {
    // The range lets the (registry_id, status, relative_path) index seek; substr keeps it exact.
    sql.push('relative_path >= ? AND relative_path < ? AND substr(relative_path, 1, ?) = ?');
    args.push(selector.pathPrefix, `${selector.pathPrefix}\u{10FFFF}`, selector.pathPrefix.length, selector.pathPrefix);
  }
  if (selector.relativePath !== undefined) {
    sql.push('relative_path = ?');
    args.push(selector.relativePath);
  }
  return { sql, args };
}

function requireId(id: string, what: string): number {
  const n = parseNumericId(id);
  if (n === undefined) throw new ValidationError(`not a ${what} id`, { [what + 'Id']: id });
  return n;
}

/** Cache entries in the `cache_entries` table, keyed by (upstream_id, relative_path). */
export class SqliteCacheEntryRepository implements CacheEntryRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async upsert(entry: CacheEntryWrite): Promise<UpsertOutcome> {
    const upstreamId = requireId(entry.upstreamId, 'upstream');
    const registryId = requireId(entry.registryId, 'registry');
    const now = toSqlTime(new Date());
    const facts = [entry.digest, entry.contentType, entry.size, entry.upstreamEtag ?? null, toSqlTime(entry.upstreamCheckedAt)] as const;
    // One transaction: read the stored checked-at, then insert or replace.
    // SQLite serializes writers, so the comparison and the write are atomic.
    return this.#db.transaction((): UpsertOutcome => {
      const current = this.#db
        .prepare<[number, string], { upstream_checked_at: string }>(
          'SELECT upstream_checked_at FROM cache_entries WHERE upstream_id = ? AND relative_path = ?',
        )
        .get(upstreamId, entry.relativePath);
      if (current === undefined) {
        this.#db
          .prepare(
            `INSERT INTO cache_entries (upstream_id, registry_id, relative_path, digest, content_type, size, upstream_etag, upstream_checked_at,
               downloads_count, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'default', ?, ?)`,
          )
          .run(upstreamId, registryId, entry.relativePath, ...facts, now, now);
        return 'inserted';
      }
      if (fromSqlTime(current.upstream_checked_at).getTime() >= entry.upstreamCheckedAt.getTime()) return 'ignored';
      this.#db
        .prepare(
          `UPDATE cache_entries SET digest = ?, content_type = ?, size = ?, upstream_etag = ?, upstream_checked_at = ?,
             registry_id = ?, status = 'default', updated_at = ?
           WHERE upstream_id = ? AND relative_path = ?`,
        )
        .run(...facts, registryId, now, upstreamId, entry.relativePath);
      return 'updated';
    })();
  }

  async findFirst(upstreamIdsInOrder: readonly string[], relativePath: string): Promise<CacheEntry | undefined> {
    const ids = upstreamIdsInOrder.map(parseNumericId).filter((n): n is number => n !== undefined);
    if (ids.length === 0) return undefined;
    const rows = this.#db
      .prepare<unknown[], CacheEntryRow>(
        `SELECT * FROM cache_entries WHERE relative_path = ? AND status = 'default' AND upstream_id IN (${ids.map(() => '?').join(', ')})`,
      )
      .all(relativePath, ...ids);
    for (const id of ids) {
      const row = rows.find((r) => r.upstream_id === id);
      if (row !== undefined) return toCacheEntry(row);
    }
    return undefined;
  }

  async listByUpstream(upstreamId: string, page: PageRequest): Promise<Page<CacheEntry>> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return { items: [], total: 0 };
    const rows = this.#db
      .prepare<[number, number, number], CacheEntryRow>(
        'SELECT * FROM cache_entries WHERE upstream_id = ? ORDER BY relative_path LIMIT ? OFFSET ?',
      )
      .all(n, page.perPage, pageOffset(page));
    return { items: rows.map(toCacheEntry), total: await this.countByUpstream(upstreamId) };
  }

  async recordDownloads(upstreamId: string, relativePath: string, count: number, downloadedAt: Date): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    const at = toSqlTime(downloadedAt);
    const result = this.#db
      .prepare(
        `UPDATE cache_entries SET downloads_count = downloads_count + ?,
           downloaded_at = CASE WHEN downloaded_at IS NULL OR downloaded_at < ? THEN ? ELSE downloaded_at END
         WHERE upstream_id = ? AND relative_path = ?`,
      )
      .run(count, at, at, n, relativePath);
    return result.changes > 0;
  }

  async get(upstreamId: string, relativePath: string): Promise<CacheEntry | undefined> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return undefined;
    const row = this.#db
      .prepare<[number, string], CacheEntryRow>('SELECT * FROM cache_entries WHERE upstream_id = ? AND relative_path = ?')
      .get(n, relativePath);
    return row === undefined ? undefined : toCacheEntry(row);
  }

  async listByRegistry(registryId: string, query: CacheEntryListQuery, page: PageRequest): Promise<Page<CacheEntry>> {
    const n = parseNumericId(registryId);
    if (n === undefined) return { items: [], total: 0 };
    // instr, not LIKE: `%` and `_` in the search are plain characters.
    const where = query.search === undefined ? 'registry_id = ?' : 'registry_id = ? AND instr(relative_path, ?) > 0';
    const args: unknown[] = query.search === undefined ? [n] : [n, query.search];
    const rows = this.#db
      .prepare<unknown[], CacheEntryRow>(`SELECT * FROM cache_entries WHERE ${where} ORDER BY ${ORDER_BY[query.sort]} LIMIT ? OFFSET ?`)
      .all(...args, page.perPage, pageOffset(page));
    const { total } = this.#db
      .prepare<unknown[], { total: number }>(`SELECT count(*) AS total FROM cache_entries WHERE ${where}`)
      .get(...args) as { total: number };
    return { items: rows.map(toCacheEntry), total };
  }

  async findAll(selector: CacheEntrySelector): Promise<CacheEntry[]> {
    const where = whereOf(selector);
    if (where === undefined) return [];
    const clause = where.sql.length === 0 ? '' : `WHERE ${where.sql.join(' AND ')}`;
    return this.#db
      .prepare<unknown[], CacheEntryRow>(`SELECT * FROM cache_entries ${clause}`)
      .all(...where.args)
      .map(toCacheEntry);
  }

  async findPage(selector: CacheEntrySelector, after: CacheEntryKey | undefined, limit: number): Promise<CacheEntry[]> {
    const where = whereOf(selector);
    if (where === undefined) return [];
    if (after !== undefined) {
      where.sql.push('(relative_path, upstream_id) > (?, ?)');
      where.args.push(after.relativePath, parseNumericId(after.upstreamId) ?? 0);
    }
    const clause = where.sql.length === 0 ? '' : `WHERE ${where.sql.join(' AND ')}`;
    return this.#db
      .prepare<unknown[], CacheEntryRow>(`SELECT * FROM cache_entries ${clause} ORDER BY relative_path, upstream_id LIMIT ?`)
      .all(...where.args, limit)
      .map(toCacheEntry);
  }

  async measure(selector: CacheEntrySelector & { lastActivityBefore?: Date }): Promise<EntryTotals> {
    const where = whereOf(selector);
    if (where === undefined) return { entries: 0, bytes: 0 };
    if (selector.lastActivityBefore !== undefined) {
      where.sql.push(`${LAST_ACTIVITY} < ?`);
      where.args.push(toSqlTime(selector.lastActivityBefore));
    }
    const clause = where.sql.length === 0 ? '' : `WHERE ${where.sql.join(' AND ')}`;
    const row = this.#db
      .prepare<unknown[], { entries: number; bytes: number | null }>(
        `SELECT count(*) AS entries, sum(size) AS bytes FROM cache_entries ${clause}`,
      )
      .get(...where.args);
    return { entries: row?.entries ?? 0, bytes: row?.bytes ?? 0 };
  }

  async findByLeastRecentActivity(query: ActivityPageQuery): Promise<CacheEntry[]> {
    const n = parseNumericId(query.registryId);
    if (n === undefined) return [];
    const where = ["registry_id = ? AND status = 'default'"];
    const args: unknown[] = [n];
    if (query.before !== undefined) {
      where.push(`${LAST_ACTIVITY} < ?`);
      args.push(toSqlTime(query.before));
    }
    if (query.after !== undefined) {
      where.push(`(${LAST_ACTIVITY}, relative_path, upstream_id) > (?, ?, ?)`);
      args.push(toSqlTime(query.after.lastActivityAt), query.after.relativePath, parseNumericId(query.after.upstreamId) ?? 0);
    }
    return this.#db
      .prepare<unknown[], CacheEntryRow>(
        `SELECT * FROM cache_entries WHERE ${where.join(' AND ')} ORDER BY ${LAST_ACTIVITY}, relative_path, upstream_id LIMIT ?`,
      )
      .all(...args, query.limit)
      .map(toCacheEntry);
  }

  async liveUsageByUpstream(registryId: string): Promise<UpstreamLiveUsage[]> {
    const n = parseNumericId(registryId);
    if (n === undefined) return [];
    // A digest cached under several paths of one upstream is stored once:
    // group by (upstream, digest, size) first, as the MongoDB store does.
    const rows = this.#db
      .prepare<[number], { upstream_id: number; stored_bytes: number; entries_count: number }>(
        `SELECT upstream_id, sum(size) AS stored_bytes, sum(entries) AS entries_count
         FROM (SELECT upstream_id, digest, size, count(*) AS entries FROM cache_entries
               WHERE registry_id = ? AND status = 'default' GROUP BY upstream_id, digest, size)
         GROUP BY upstream_id`,
      )
      .all(n);
    return rows.map((r) => ({ upstreamId: String(r.upstream_id), storedBytes: r.stored_bytes, entriesCount: r.entries_count }));
  }

  async hasLiveDigest(upstreamId: string, digest: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    return (
      this.#db
        .prepare<[string, number], { one: number }>(
          "SELECT 1 AS one FROM cache_entries WHERE digest = ? AND status = 'default' AND upstream_id = ? LIMIT 1",
        )
        .get(digest, n) !== undefined
    );
  }

  async markPendingDestruction(upstreamId: string, relativePath: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    const result = this.#db
      .prepare(
        `UPDATE cache_entries SET status = 'pending_destruction', updated_at = ? WHERE upstream_id = ? AND relative_path = ? AND status = 'default'`,
      )
      .run(toSqlTime(new Date()), n, relativePath);
    return result.changes > 0;
  }

  async countByUpstream(upstreamId: string): Promise<number> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return 0;
    const row = this.#db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM cache_entries WHERE upstream_id = ?').get(n);
    return row?.n ?? 0;
  }

  async deleteByUpstream(upstreamId: string): Promise<number> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return 0;
    return this.#db.prepare('DELETE FROM cache_entries WHERE upstream_id = ?').run(n).changes;
  }
}
