import { ValidationError } from '@vreg/contracts';
import type { Collection, Db, Filter, Sort, UpdateFilter } from 'mongodb';
import type {
  ActivityPageQuery,
  CacheEntry,
  CacheEntryKey,
  CacheEntryListQuery,
  CacheEntrySelector,
  CacheEntrySort,
  CacheEntryWrite,
  EntryTotals,
  UpsertOutcome,
  UpstreamLiveUsage,
} from '../../domain/cache-entry.ts';
import { compareByActivity } from '../../domain/cache-entry.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { CacheEntryRepository } from '../../ports/cache-entry-repository.ts';
import { type CacheEntryDocument, Collections, isDuplicateKey, toCacheEntry } from './mongo-documents.ts';

const NO_ID = { projection: { _id: 0 } } as const;

const SORT: Record<CacheEntrySort, Sort> = {
  relative_path: { relative_path: 1, upstream_id: 1 },
  '-relative_path': { relative_path: -1, upstream_id: 1 },
  size: { size: 1, relative_path: 1, upstream_id: 1 },
  '-size': { size: -1, relative_path: 1, upstream_id: 1 },
  downloaded_at: { downloaded_at: 1, relative_path: 1, upstream_id: 1 },
  '-downloaded_at': { downloaded_at: -1, relative_path: 1, upstream_id: 1 },
};

/** `text` as a regular expression matching itself literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The selector as a filter, or undefined when an id in it can match nothing. */
function filterOf(selector: CacheEntrySelector): Filter<CacheEntryDocument> | undefined {
  const filter: Filter<CacheEntryDocument> = {};
  for (const [field, id] of [
    ['registry_id', selector.registryId],
    ['upstream_id', selector.upstreamId],
  ] as const) {
    if (id === undefined) continue;
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    filter[field] = n;
  }
  if (selector.status !== undefined) filter.status = selector.status;
  // A range (index-friendly) plus the anchored regex that keeps it exact.
  if (selector.pathPrefix !== undefined)
    filter.relative_path = {
      $gte: selector.pathPrefix,
      $lt: `${selector.pathPrefix}\u{10FFFF}`,
      $regex: `^${literal(selector.pathPrefix)}`,
    };
  if (selector.relativePath !== undefined)
    filter.relative_path =
      selector.pathPrefix === undefined ? selector.relativePath : { ...(filter.relative_path as object), $eq: selector.relativePath };
  return filter;
}

/** Entries whose last activity (downloaded_at, else created_at) is before `at`. */
function inactiveBefore(at: Date): Filter<CacheEntryDocument> {
  // `downloaded_at: null` matches a missing field too (the driver's types do not say so).
  return {
    $or: [{ downloaded_at: { $lt: at } }, { downloaded_at: null, created_at: { $lt: at } } as unknown as Filter<CacheEntryDocument>],
  };
}

function requireId(id: string, what: 'upstream' | 'registry'): number {
  const n = parseNumericId(id);
  if (n === undefined) throw new ValidationError(`not a ${what} id`, { [`${what}Id`]: id });
  return n;
}

/**
 * Cache entries in `cache_entries`, unique on (upstream_id, relative_path).
 * Every write is a single-document operation guarded by its filter, so it
 * stays idempotent without transactions (FerretDB has none).
 */
export class MongoCacheEntryRepository implements CacheEntryRepository {
  readonly #entries: Collection<CacheEntryDocument>;

  constructor(db: Db) {
    this.#entries = db.collection<CacheEntryDocument>(Collections.cacheEntries);
  }

  async upsert(entry: CacheEntryWrite): Promise<UpsertOutcome> {
    const key = { upstream_id: requireId(entry.upstreamId, 'upstream'), relative_path: entry.relativePath };
    const now = new Date();
    const update: UpdateFilter<CacheEntryDocument> = {
      $set: {
        registry_id: requireId(entry.registryId, 'registry'),
        digest: entry.digest,
        content_type: entry.contentType,
        size: entry.size,
        upstream_checked_at: entry.upstreamCheckedAt,
        status: 'default',
        updated_at: now,
        ...(entry.upstreamEtag === undefined ? {} : { upstream_etag: entry.upstreamEtag }),
      },
      $setOnInsert: { downloads_count: 0, created_at: now },
      ...(entry.upstreamEtag === undefined ? { $unset: { upstream_etag: '' as const } } : {}),
    };
    // Matches only an older entry. If the entry exists and is as new or
    // newer, the upsert's insert collides with the unique index (E11000):
    // that is the "ignored" case, and replaying an event lands there.
    const olderThanThis: Filter<CacheEntryDocument> = { ...key, upstream_checked_at: { $lt: entry.upstreamCheckedAt } };
    try {
      const result = await this.#entries.updateOne(olderThanThis, update, { upsert: true });
      return result.upsertedCount > 0 ? 'inserted' : 'updated';
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // The collision may also come from a concurrent insert of an older
    // version between our filter and our insert: try once more without
    // inserting, so the newer facts still win.
    const { $setOnInsert: _ignored, ...replace } = update;
    const retry = await this.#entries.updateOne(olderThanThis, replace);
    return retry.matchedCount > 0 ? 'updated' : 'ignored';
  }

  async findFirst(upstreamIdsInOrder: readonly string[], relativePath: string): Promise<CacheEntry | undefined> {
    const ids = upstreamIdsInOrder.map(parseNumericId).filter((n): n is number => n !== undefined);
    if (ids.length === 0) return undefined;
    const docs = await this.#entries.find({ upstream_id: { $in: ids }, relative_path: relativePath, status: 'default' }, NO_ID).toArray();
    for (const id of ids) {
      const doc = docs.find((d) => d.upstream_id === id);
      if (doc !== undefined) return toCacheEntry(doc);
    }
    return undefined;
  }

  async listByUpstream(upstreamId: string, page: PageRequest): Promise<Page<CacheEntry>> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return { items: [], total: 0 };
    const [docs, total] = await Promise.all([
      this.#entries.find({ upstream_id: n }, NO_ID).sort({ relative_path: 1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#entries.countDocuments({ upstream_id: n }),
    ]);
    return { items: docs.map(toCacheEntry), total };
  }

  async recordDownloads(upstreamId: string, relativePath: string, count: number, downloadedAt: Date): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    // FerretDB applies `$inc` as read-modify-write: two concurrent updates of
    // one document can lose a count. The entry.served consumer therefore
    // runs with concurrency 1 (see EntryServedConsumer).
    const result = await this.#entries.updateOne(
      { upstream_id: n, relative_path: relativePath },
      { $inc: { downloads_count: count }, $max: { downloaded_at: downloadedAt } },
    );
    return result.matchedCount > 0;
  }

  async get(upstreamId: string, relativePath: string): Promise<CacheEntry | undefined> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return undefined;
    const doc = await this.#entries.findOne({ upstream_id: n, relative_path: relativePath }, NO_ID);
    return doc === null ? undefined : toCacheEntry(doc);
  }

  async listByRegistry(registryId: string, query: CacheEntryListQuery, page: PageRequest): Promise<Page<CacheEntry>> {
    const n = parseNumericId(registryId);
    if (n === undefined) return { items: [], total: 0 };
    const filter: Filter<CacheEntryDocument> = {
      registry_id: n,
      ...(query.search === undefined ? {} : { relative_path: { $regex: literal(query.search) } }),
    };
    const [docs, total] = await Promise.all([
      this.#entries.find(filter, NO_ID).sort(SORT[query.sort]).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#entries.countDocuments(filter),
    ]);
    return { items: docs.map(toCacheEntry), total };
  }

  async findAll(selector: CacheEntrySelector): Promise<CacheEntry[]> {
    const filter = filterOf(selector);
    if (filter === undefined) return [];
    return (await this.#entries.find(filter, NO_ID).toArray()).map(toCacheEntry);
  }

  async findPage(selector: CacheEntrySelector, after: CacheEntryKey | undefined, limit: number): Promise<CacheEntry[]> {
    const filter = filterOf(selector);
    if (filter === undefined) return [];
    const conditions: Filter<CacheEntryDocument>[] = [filter];
    if (after !== undefined) {
      const upstream = parseNumericId(after.upstreamId) ?? 0;
      conditions.push({
        $or: [{ relative_path: { $gt: after.relativePath } }, { relative_path: after.relativePath, upstream_id: { $gt: upstream } }],
      });
    }
    const docs = await this.#entries.find({ $and: conditions }, NO_ID).sort({ relative_path: 1, upstream_id: 1 }).limit(limit).toArray();
    return docs.map(toCacheEntry);
  }

  async measure(selector: CacheEntrySelector & { lastActivityBefore?: Date }): Promise<EntryTotals> {
    const filter = filterOf(selector);
    if (filter === undefined) return { entries: 0, bytes: 0 };
    const match = selector.lastActivityBefore === undefined ? filter : { $and: [filter, inactiveBefore(selector.lastActivityBefore)] };
    // One accumulator per $group: FerretDB 1.24 leaves every accumulator after the first at 0.
    const [entries, [bytes]] = await Promise.all([
      this.#entries.countDocuments(match),
      this.#entries.aggregate<{ bytes: number }>([{ $match: match }, { $group: { _id: null, bytes: { $sum: '$size' } } }]).toArray(),
    ]);
    return { entries, bytes: bytes?.bytes ?? 0 };
  }

  async findByLeastRecentActivity(query: ActivityPageQuery): Promise<CacheEntry[]> {
    const n = parseNumericId(query.registryId);
    if (n === undefined) return [];
    // Last activity is downloaded_at, else created_at. Without a stored
    // field for it, read the page from two indexed streams (downloaded
    // entries by downloaded_at, never-downloaded ones by created_at), each
    // after the cursor, and merge: the first `limit` of both is the page.
    const stream = async (field: 'downloaded_at' | 'created_at'): Promise<CacheEntry[]> => {
      const conditions: Filter<CacheEntryDocument>[] = [
        {
          registry_id: n,
          status: 'default',
          downloaded_at: field === 'downloaded_at' ? { $ne: null } : null,
        } as unknown as Filter<CacheEntryDocument>,
      ];
      if (query.before !== undefined) conditions.push({ [field]: { $lt: query.before } });
      if (query.after !== undefined) {
        const { lastActivityAt: at, relativePath: path } = query.after;
        const upstream = parseNumericId(query.after.upstreamId) ?? 0;
        conditions.push({
          $or: [
            { [field]: { $gt: at } },
            { [field]: at, relative_path: { $gt: path } },
            { [field]: at, relative_path: path, upstream_id: { $gt: upstream } },
          ],
        });
      }
      const docs = await this.#entries
        .find({ $and: conditions }, NO_ID)
        .sort({ [field]: 1, relative_path: 1, upstream_id: 1 })
        .limit(query.limit)
        .toArray();
      return docs.map(toCacheEntry);
    };
    const [downloaded, never] = await Promise.all([stream('downloaded_at'), stream('created_at')]);
    return [...downloaded, ...never].sort(compareByActivity).slice(0, query.limit);
  }

  async liveUsageByUpstream(registryId: string): Promise<UpstreamLiveUsage[]> {
    const n = parseNumericId(registryId);
    if (n === undefined) return [];
    // A digest cached under several paths of one upstream is stored once:
    // group by (upstream, digest, size) first, then by upstream. Two
    // pipelines with one accumulator each: FerretDB 1.24 has no $max/$first
    // in $group and leaves every accumulator after the first at 0.
    const live = { $match: { registry_id: n, status: 'default' as const } };
    const [bytes, counts] = await Promise.all([
      this.#entries
        .aggregate<{ _id: number; total: number }>([
          live,
          { $group: { _id: { upstream_id: '$upstream_id', digest: '$digest', size: '$size' } } },
          { $group: { _id: '$_id.upstream_id', total: { $sum: '$_id.size' } } },
        ])
        .toArray(),
      this.#entries.aggregate<{ _id: number; total: number }>([live, { $group: { _id: '$upstream_id', total: { $sum: 1 } } }]).toArray(),
    ]);
    const bytesOf = new Map(bytes.map((r) => [r._id, r.total]));
    return counts.map((r) => ({ upstreamId: String(r._id), storedBytes: bytesOf.get(r._id) ?? 0, entriesCount: r.total }));
  }

  async hasLiveDigest(upstreamId: string, digest: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    return (await this.#entries.findOne({ digest, status: 'default', upstream_id: n }, { projection: { _id: 1 } })) !== null;
  }

  async markPendingDestruction(upstreamId: string, relativePath: string): Promise<boolean> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return false;
    const result = await this.#entries.updateOne(
      { upstream_id: n, relative_path: relativePath, status: 'default' },
      { $set: { status: 'pending_destruction', updated_at: new Date() } },
    );
    return result.modifiedCount > 0;
  }

  async countByUpstream(upstreamId: string): Promise<number> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return 0;
    return this.#entries.countDocuments({ upstream_id: n });
  }

  async deleteByUpstream(upstreamId: string): Promise<number> {
    const n = parseNumericId(upstreamId);
    if (n === undefined) return 0;
    return (await this.#entries.deleteMany({ upstream_id: n })).deletedCount;
  }
}
