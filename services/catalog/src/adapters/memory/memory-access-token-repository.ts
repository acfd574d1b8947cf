import { ConflictError } from '@vreg/contracts';
import type { AccessToken, AccessTokenFilter, NewAccessToken } from '../../domain/access-token.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { AccessTokenRepository } from '../../ports/access-token-repository.ts';

/** Access tokens in process memory, for unit tests: same contract as the SQLite and MongoDB stores. */
export class MemoryAccessTokenRepository implements AccessTokenRepository {
  readonly #rows = new Map<string, AccessToken>();
  #lastId = 0;

  async create(input: NewAccessToken): Promise<AccessToken> {
    if ([...this.#rows.values()].some((t) => t.tokenDigest === input.tokenDigest))
      throw new ConflictError('an access token with this digest already exists');
    const now = new Date();
    const token: AccessToken = {
      id: String(++this.#lastId),
      name: input.name,
      tokenDigest: input.tokenDigest,
      tokenPrefix: input.tokenPrefix,
      scopes: [...input.scopes],
      ...(input.registryIds === undefined ? {} : { registryIds: [...input.registryIds] }),
      ...(input.expiresAt === undefined ? {} : { expiresAt: new Date(input.expiresAt) }),
      createdAt: now,
      updatedAt: now,
    };
    this.#rows.set(token.id, token);
    return token;
  }

  async get(id: string): Promise<AccessToken | undefined> {
    return this.#rows.get(id);
  }

  async findByDigest(tokenDigest: string): Promise<AccessToken | undefined> {
    for (const token of this.#rows.values()) if (token.tokenDigest === tokenDigest) return token;
    return undefined;
  }

  async list(page: PageRequest, filter: AccessTokenFilter = {}): Promise<Page<AccessToken>> {
    const within = filter.within;
    const all = [...this.#rows.values()]
      .filter(
        (t) =>
          within === undefined ||
          (t.registryIds !== undefined && t.registryIds.length > 0 && t.registryIds.every((id) => within.includes(id))),
      )
      .sort((a, b) => Number(a.id) - Number(b.id));
    const start = pageOffset(page);
    return { items: all.slice(start, start + page.perPage), total: all.length };
  }

  async revoke(id: string, at: Date): Promise<AccessToken | undefined> {
    const current = this.#rows.get(id);
    if (current === undefined || current.revokedAt !== undefined) return current;
    const next = { ...current, revokedAt: new Date(at), updatedAt: new Date() };
    this.#rows.set(id, next);
    return next;
  }

  async recordLastUsed(id: string, at: Date): Promise<boolean> {
    const current = this.#rows.get(id);
    if (current === undefined) return false;
    if (current.lastUsedAt === undefined || current.lastUsedAt < at) this.#rows.set(id, { ...current, lastUsedAt: new Date(at) });
    return true;
  }
}
