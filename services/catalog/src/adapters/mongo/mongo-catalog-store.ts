import type { Db, MongoClient } from 'mongodb';
import type { AccessTokenRepository } from '../../ports/access-token-repository.ts';
import type { CacheEntryRepository } from '../../ports/cache-entry-repository.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { CleanupPolicyRepository } from '../../ports/cleanup-policy-repository.ts';
import type { GcCandidateRepository } from '../../ports/gc-candidate-repository.ts';
import type { JobRepository } from '../../ports/job-repository.ts';
import type { MirrorHostRepository } from '../../ports/mirror-host-repository.ts';
import type { PolicyDenialRepository } from '../../ports/policy-denial-repository.ts';
import type { PullPolicyRepository } from '../../ports/pull-policy-repository.ts';
import type { RegistryRepository } from '../../ports/registry-repository.ts';
import type { UpstreamRepository } from '../../ports/upstream-repository.ts';
import { MongoAccessTokenRepository } from './mongo-access-token-repository.ts';
import { MongoCacheEntryRepository } from './mongo-cache-entry-repository.ts';
import { MongoCleanupPolicyRepository } from './mongo-cleanup-policy-repository.ts';
import { Collections } from './mongo-documents.ts';
import { MongoGcCandidateRepository } from './mongo-gc-candidate-repository.ts';
import { MongoIdAllocator } from './mongo-id-allocator.ts';
import { MongoJobRepository } from './mongo-job-repository.ts';
import { MongoMirrorHostRepository } from './mongo-mirror-host-repository.ts';
import { MongoPolicyDenialRepository, MongoPullPolicyRepository } from './mongo-pull-policy-repositories.ts';
import { MongoRegistryRepository } from './mongo-registry-repository.ts';
import { MongoUpstreamRepository } from './mongo-upstream-repository.ts';

export interface MongoCatalogStoreOptions {
  /** Connection string of any MongoDB-wire server (MongoDB, FerretDB). */
  url: string;
  /** Database holding the catalog collections. */
  dbName: string;
  /** Milliseconds to find a server before an operation fails. Default 10000. */
  serverSelectionTimeoutMs?: number;
}

/**
 * The catalog of the distributed mode, on a MongoDB-wire server. Uses only
 * what FerretDB 1.24 (SQLite backend) also offers: single-document writes,
 * unique indexes, `findOneAndUpdate`; no transactions, TTL indexes or change
 * streams.
 */
export class MongoCatalogStore implements CatalogStore {
  readonly registries: RegistryRepository;
  readonly upstreams: UpstreamRepository;
  readonly cacheEntries: CacheEntryRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly jobs: JobRepository;
  readonly cleanupPolicies: CleanupPolicyRepository;
  readonly gcCandidates: GcCandidateRepository;
  readonly mirrorHosts: MirrorHostRepository;
  readonly pullPolicies: PullPolicyRepository;
  readonly policyDenials: PolicyDenialRepository;
  readonly #client: MongoClient;

  private constructor(client: MongoClient, db: Db) {
    this.#client = client;
    const ids = new MongoIdAllocator(db);
    this.registries = new MongoRegistryRepository(db, ids);
    this.upstreams = new MongoUpstreamRepository(db, ids);
    this.cacheEntries = new MongoCacheEntryRepository(db);
    this.accessTokens = new MongoAccessTokenRepository(db, ids);
    this.jobs = new MongoJobRepository(db, ids);
    this.cleanupPolicies = new MongoCleanupPolicyRepository(db, ids);
    this.gcCandidates = new MongoGcCandidateRepository(db);
    this.mirrorHosts = new MongoMirrorHostRepository(db);
    this.pullPolicies = new MongoPullPolicyRepository(db);
    this.policyDenials = new MongoPolicyDenialRepository(db);
  }

  /** Connects, creates the indexes (idempotent) and returns the store. */
  static async connect(options: MongoCatalogStoreOptions): Promise<MongoCatalogStore> {
    // Loaded here, not with the module: embedded mode bundles this adapter but never connects it,
    // and the driver costs an idle process ~20 MB (bson allocates its 17 MB serialization buffer on load).
    type Driver = { MongoClient: typeof MongoClient };
    const driver = (await import('mongodb')) as unknown as Driver & { default?: Driver };
    // Bundled (deploy/build.mjs), the CommonJS driver's exports come under `default`; under tsx, as named exports.
    const Client = driver.default?.MongoClient ?? driver.MongoClient;
    const client = new Client(options.url, {
      appName: 'vreg-catalog',
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
    });
    await client.connect();
    try {
      const db = client.db(options.dbName);
      await ensureCatalogIndexes(db);
      await migrateCatalogDocuments(db);
      return new MongoCatalogStore(client, db);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** The indexes the catalog relies on: uniqueness is what makes writes idempotent. */
const INDEXES: ReadonlyArray<{ collection: string; key: Record<string, 1>; name: string; unique?: boolean }> = [
  { collection: Collections.registries, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.registries, key: { name: 1 }, name: 'name_unique', unique: true },
  { collection: Collections.upstreams, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.upstreams, key: { registry_id: 1, position: 1 }, name: 'registry_position' },
  { collection: Collections.cacheEntries, key: { upstream_id: 1, relative_path: 1 }, name: 'upstream_relative_path_unique', unique: true },
  { collection: Collections.accessTokens, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.accessTokens, key: { token_digest: 1 }, name: 'token_digest_unique', unique: true },
  // GC: reference counting by digest, the destruction worker's scan, due candidates.
  { collection: Collections.cacheEntries, key: { digest: 1, status: 1 }, name: 'digest_status' },
  { collection: Collections.cacheEntries, key: { status: 1 }, name: 'status' },
  { collection: Collections.gcCandidates, key: { digest: 1 }, name: 'digest_unique', unique: true },
  { collection: Collections.gcCandidates, key: { state: 1, marked_at: 1 }, name: 'state_marked_at' },
  { collection: Collections.gcClaims, key: { digest: 1, generation: 1 }, name: 'digest_generation_unique', unique: true },
  { collection: Collections.jobs, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.jobs, key: { kind: 1, state: 1, id: 1 }, name: 'kind_state_id' },
  { collection: Collections.jobClaims, key: { job_id: 1 }, name: 'job_id_unique', unique: true },
  // Lifecycle: one cleanup policy per registry, one claim per scheduled run, runs by registry, registry-wide entry queries.
  { collection: Collections.cleanupPolicies, key: { registry_id: 1 }, name: 'registry_id_unique', unique: true },
  { collection: Collections.cleanupPolicyClaims, key: { registry_id: 1, run_at: 1 }, name: 'registry_run_unique', unique: true },
  { collection: Collections.cleanupRuns, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.cleanupRuns, key: { registry_id: 1, id: 1 }, name: 'registry_id_id' },
  { collection: Collections.cacheEntries, key: { registry_id: 1, status: 1 }, name: 'registry_status' },
  // Mirror routing: a host belongs to one registry.
  { collection: Collections.mirrorHosts, key: { host: 1 }, name: 'host_unique', unique: true },
  { collection: Collections.mirrorHosts, key: { registry_id: 1, host: 1 }, name: 'registry_host' },
  // Pull policies: one per registry; refusal records listed newest first, all or per registry, and pruned by age.
  { collection: Collections.pullPolicies, key: { registry_id: 1 }, name: 'registry_id_unique', unique: true },
  { collection: Collections.policyDenials, key: { id: 1 }, name: 'id_unique', unique: true },
  { collection: Collections.policyDenials, key: { at: 1, id: 1 }, name: 'at_id' },
  { collection: Collections.policyDenials, key: { registry_id: 1, at: 1, id: 1 }, name: 'registry_at_id' },
  // Bounded lifecycle sweeps: pages by path (purges) and by last activity (quota, cleanup), both streams of it.
  {
    collection: Collections.cacheEntries,
    key: { registry_id: 1, status: 1, relative_path: 1, upstream_id: 1 },
    name: 'registry_status_path',
  },
  {
    collection: Collections.cacheEntries,
    key: { registry_id: 1, status: 1, downloaded_at: 1, relative_path: 1, upstream_id: 1 },
    name: 'registry_status_downloaded',
  },
  {
    collection: Collections.cacheEntries,
    key: { registry_id: 1, status: 1, created_at: 1, relative_path: 1, upstream_id: 1 },
    name: 'registry_status_created',
  },
];

/**
 * Creates the catalog's indexes; a no-op for those that exist. One index per
 * command: FerretDB 1.24 panics ("slice bounds out of range") on a
 * `createIndexes` listing several indexes that already exist.
 */
export async function ensureCatalogIndexes(db: Db): Promise<void> {
  for (const index of INDEXES) {
    await db.collection(index.collection).createIndex(index.key, { name: index.name, unique: index.unique ?? false });
  }
}

/**
 * Brings documents written by an older vreg to the current shape;
 * idempotent, run at every connect. Registries from before access control
 * get `visibility: 'private'` (readers treat a missing field the same way;
 * writing it makes the field queryable).
 */
export async function migrateCatalogDocuments(db: Db): Promise<void> {
  await db.collection(Collections.registries).updateMany({ visibility: { $exists: false } }, { $set: { visibility: 'private' } });
}
