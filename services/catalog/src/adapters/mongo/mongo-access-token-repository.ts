import { type AccessTokenScope, ConflictError } from '@vreg/contracts';
import type { Collection, Db } from 'mongodb';
import type { AccessToken, AccessTokenFilter, NewAccessToken } from '../../domain/access-token.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { AccessTokenRepository } from '../../ports/access-token-repository.ts';
import { Collections } from './mongo-documents.ts';
import type { MongoIdAllocator } from './mongo-id-allocator.ts';

/** An access token as stored: the secret only as its sha256 (`token_digest`, unique index). */
export interface AccessTokenDocument {
  id: number;
  name: string;
  token_digest: string;
  token_prefix: string;
  scopes: AccessTokenScope[];
  /** Absent = every registry. */
  registry_ids?: number[];
  expires_at?: Date;
  last_used_at?: Date;
  revoked_at?: Date;
  created_at: Date;
  updated_at: Date;
}

const NO_ID = { projection: { _id: 0 } } as const;

function toAccessToken(doc: AccessTokenDocument): AccessToken {
  return {
    id: String(doc.id),
    name: doc.name,
    tokenDigest: doc.token_digest,
    tokenPrefix: doc.token_prefix,
    scopes: [...doc.scopes],
    ...(doc.registry_ids == null ? {} : { registryIds: doc.registry_ids.map(String) }),
    ...(doc.expires_at == null ? {} : { expiresAt: doc.expires_at }),
    ...(doc.last_used_at == null ? {} : { lastUsedAt: doc.last_used_at }),
    ...(doc.revoked_at == null ? {} : { revokedAt: doc.revoked_at }),
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
  };
}

/** Access tokens in the `access_tokens` collection (unique indexes on `id` and `token_digest`). */
export class MongoAccessTokenRepository implements AccessTokenRepository {
  readonly #tokens: Collection<AccessTokenDocument>;
  readonly #ids: MongoIdAllocator;

  constructor(db: Db, ids: MongoIdAllocator) {
    this.#tokens = db.collection<AccessTokenDocument>(Collections.accessTokens);
    this.#ids = ids;
  }

  async create(input: NewAccessToken): Promise<AccessToken> {
    const now = new Date();
    const doc = await this.#ids.insertWithNewId(
      this.#tokens,
      Collections.accessTokens,
      (id) => ({
        id,
        name: input.name,
        token_digest: input.tokenDigest,
        token_prefix: input.tokenPrefix,
        scopes: [...input.scopes],
        ...(input.registryIds === undefined ? {} : { registry_ids: input.registryIds.map(Number) }),
        ...(input.expiresAt === undefined ? {} : { expires_at: input.expiresAt }),
        created_at: now,
        updated_at: now,
      }),
      async () => {
        if ((await this.#tokens.countDocuments({ token_digest: input.tokenDigest }, { limit: 1 })) > 0) {
          throw new ConflictError('an access token with this digest already exists');
        }
      },
    );
    return toAccessToken(doc);
  }

  async get(id: string): Promise<AccessToken | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const doc = await this.#tokens.findOne({ id: n }, NO_ID);
    return doc === null ? undefined : toAccessToken(doc);
  }

  async findByDigest(tokenDigest: string): Promise<AccessToken | undefined> {
    const doc = await this.#tokens.findOne({ token_digest: tokenDigest }, NO_ID);
    return doc === null ? undefined : toAccessToken(doc);
  }

  async list(page: PageRequest, filter: AccessTokenFilter = {}): Promise<Page<AccessToken>> {
    if (filter.within !== undefined) return this.#listWithin(page, filter.within);
    const [docs, total] = await Promise.all([
      this.#tokens.find({}, NO_ID).sort({ id: 1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#tokens.countDocuments({}),
    ]);
    return { items: docs.map(toAccessToken), total };
  }

  /**
   * Tokens restricted to registries all among `within`. Filtered here, not
   * in the query: "no element outside a set" needs $nor over $elemMatch,
   * which FerretDB (the MongoDB-wire server we support) does not evaluate as
   * MongoDB does. Restricted tokens are an administrator's few, so reading
   * them all is cheap.
   */
  async #listWithin(page: PageRequest, within: readonly string[]): Promise<Page<AccessToken>> {
    const allowed = new Set(within.map(parseNumericId).filter((n): n is number => n !== undefined));
    const restricted = await this.#tokens
      .find({ registry_ids: { $exists: true } }, NO_ID)
      .sort({ id: 1 })
      .toArray();
    const matching = restricted.filter((d) => (d.registry_ids?.length ?? 0) > 0 && (d.registry_ids ?? []).every((r) => allowed.has(r)));
    const start = pageOffset(page);
    return { items: matching.slice(start, start + page.perPage).map(toAccessToken), total: matching.length };
  }

  async revoke(id: string, at: Date): Promise<AccessToken | undefined> {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    // The filter keeps the first revocation time when two revocations race.
    await this.#tokens.updateOne({ id: n, revoked_at: { $exists: false } }, { $set: { revoked_at: at, updated_at: new Date() } });
    return this.get(id);
  }

  async recordLastUsed(id: string, at: Date): Promise<boolean> {
    const n = parseNumericId(id);
    if (n === undefined) return false;
    const result = await this.#tokens.updateOne({ id: n }, { $max: { last_used_at: at } });
    return result.matchedCount > 0;
  }
}
