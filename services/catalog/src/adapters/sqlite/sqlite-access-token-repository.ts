import { type AccessTokenScope, ConflictError } from '@vreg/contracts';
import type Database from 'better-sqlite3';
import type { AccessToken, AccessTokenFilter, NewAccessToken } from '../../domain/access-token.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { AccessTokenRepository } from '../../ports/access-token-repository.ts';
import { fromSqlTime, isUniqueViolation, toSqlTime } from './sqlite-schema.ts';

interface AccessTokenRow {
  id: number;
  name: string;
  token_digest: string;
  token_prefix: string;
  /** JSON array of scopes. */
  scopes: string;
  /** JSON array of registry ids (numbers), or NULL for every registry. */
  registry_ids: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

function toAccessToken(row: AccessTokenRow): AccessToken {
  return {
    id: String(row.id),
    name: row.name,
    tokenDigest: row.token_digest,
    tokenPrefix: row.token_prefix,
    scopes: JSON.parse(row.scopes) as AccessTokenScope[],
    ...(row.registry_ids === null ? {} : { registryIds: (JSON.parse(row.registry_ids) as number[]).map(String) }),
    ...(row.expires_at === null ? {} : { expiresAt: fromSqlTime(row.expires_at) }),
    ...(row.last_used_at === null ? {} : { lastUsedAt: fromSqlTime(row.last_used_at) }),
    ...(row.revoked_at === null ? {} : { revokedAt: fromSqlTime(row.revoked_at) }),
    createdAt: fromSqlTime(row.created_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

/** Access tokens in the `access_tokens` table (unique `token_digest`); ids from AUTOINCREMENT, never reused. */
export class SqliteAccessTokenRepository implements AccessTokenRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async create(input: NewAccessToken): Promise<AccessToken> {
    const now = toSqlTime(new Date());
    try {
      const row = this.#db
        .prepare<[string, string, string, string, string | null, string | null, string, string], AccessTokenRow>(
          `INSERT INTO access_tokens (name, token_digest, token_prefix, scopes, registry_ids, expires_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          input.name,
          input.tokenDigest,
          input.tokenPrefix,
          JSON.stringify(input.scopes),
          input.registryIds === undefined ? null : JSON.stringify(input.registryIds.map(Number)),
          input.expiresAt === undefined ? null : toSqlTime(input.expiresAt),
          now,
          now,
        );
      return toAccessToken(row as AccessTokenRow);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('an access token with this digest already exists');
      throw err;
    }
  }

  async get(id: string): Promise<AccessToken | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const row = this.#db.prepare<[number], AccessTokenRow>('SELECT * FROM access_tokens WHERE id = ?').get(n);
    return row === undefined ? undefined : toAccessToken(row);
  }

  async findByDigest(tokenDigest: string): Promise<AccessToken | undefined> {
    const row = this.#db.prepare<[string], AccessTokenRow>('SELECT * FROM access_tokens WHERE token_digest = ?').get(tokenDigest);
    return row === undefined ? undefined : toAccessToken(row);
  }

  async list(page: PageRequest, filter: AccessTokenFilter = {}): Promise<Page<AccessToken>> {
    // Restricted to a non-empty subset of `within`: no listed registry outside it.
    const where =
      filter.within === undefined
        ? ''
        : `WHERE registry_ids IS NOT NULL AND json_array_length(registry_ids) > 0
             AND NOT EXISTS (SELECT 1 FROM json_each(access_tokens.registry_ids) AS r WHERE r.value NOT IN (SELECT value FROM json_each(?)))`;
    const args =
      filter.within === undefined ? [] : [JSON.stringify(filter.within.map(parseNumericId).filter((n): n is number => n !== undefined))];
    const rows = this.#db
      .prepare<unknown[], AccessTokenRow>(`SELECT * FROM access_tokens ${where} ORDER BY id LIMIT ? OFFSET ?`)
      .all(...args, page.perPage, pageOffset(page));
    const { total } = this.#db
      .prepare<unknown[], { total: number }>(`SELECT count(*) AS total FROM access_tokens ${where}`)
      .get(...args) as {
      total: number;
    };
    return { items: rows.map(toAccessToken), total };
  }

  async revoke(id: string, at: Date): Promise<AccessToken | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    this.#db
      .prepare<[string, string, number]>('UPDATE access_tokens SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(toSqlTime(at), toSqlTime(new Date()), n);
    return this.get(id);
  }

  async recordLastUsed(id: string, at: Date): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    // Fixed-width ISO strings compare as times: only a later use moves it.
    const result = this.#db
      .prepare<[string, string, number]>(
        'UPDATE access_tokens SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END WHERE id = ?',
      )
      .run(toSqlTime(at), toSqlTime(at), n);
    return result.changes > 0;
  }
}
