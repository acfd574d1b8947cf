import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
import { reuseStatements } from './reused-statements.ts';
import { SqliteAccessTokenRepository } from './sqlite-access-token-repository.ts';
import { SqliteCacheEntryRepository } from './sqlite-cache-entry-repository.ts';
import { SqliteCleanupPolicyRepository } from './sqlite-cleanup-policy-repository.ts';
import { SqliteGcCandidateRepository } from './sqlite-gc-candidate-repository.ts';
import { SqliteJobRepository } from './sqlite-job-repository.ts';
import { SqliteMirrorHostRepository } from './sqlite-mirror-host-repository.ts';
import { SqlitePolicyDenialRepository, SqlitePullPolicyRepository } from './sqlite-pull-policy-repositories.ts';
import { SqliteRegistryRepository } from './sqlite-registry-repository.ts';
import { migrateCatalogSchema } from './sqlite-schema.ts';
import { SqliteUpstreamRepository } from './sqlite-upstream-repository.ts';

/** Where the embedded catalog lives. */
export interface SqliteCatalogStoreOptions {
  /** Directory for the database file; created when missing. */
  dataDir: string;
  /** File name inside `dataDir`. Default `catalog.sqlite`. */
  fileName?: string;
}

/**
 * The catalog of the embedded mode: one SQLite file (better-sqlite3) in WAL
 * mode, so readers never wait for the writer. Same contract as the MongoDB
 * store; one process owns the file.
 */
export class SqliteCatalogStore implements CatalogStore {
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
  /** Absolute or relative path of the database file. */
  readonly path: string;
  readonly #db: Database.Database;

  private constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
    this.registries = new SqliteRegistryRepository(db);
    this.upstreams = new SqliteUpstreamRepository(db);
    this.cacheEntries = new SqliteCacheEntryRepository(db);
    this.accessTokens = new SqliteAccessTokenRepository(db);
    this.jobs = new SqliteJobRepository(db);
    this.cleanupPolicies = new SqliteCleanupPolicyRepository(db);
    this.gcCandidates = new SqliteGcCandidateRepository(db);
    this.mirrorHosts = new SqliteMirrorHostRepository(db);
    this.pullPolicies = new SqlitePullPolicyRepository(db);
    this.policyDenials = new SqlitePolicyDenialRepository(db);
  }

  /** Opens (creating when missing) the database file and migrates it to the current schema. */
  static open(options: SqliteCatalogStoreOptions): SqliteCatalogStore {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const path = join(options.dataDir, options.fileName ?? 'catalog.sqlite');
    ownerOnly(path);
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: durable across process crashes, at worst the last
      // transactions lost on power loss; entries are re-derivable from events.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrateCatalogSchema(db);
      // After the migration: its DDL changes the schema that compiled statements depend on.
      reuseStatements(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteCatalogStore(db, path);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/**
 * The database file, created 0600 before SQLite opens it (SQLite would make
 * it 0644), and made so if an older vreg left it readable: SQLite gives the
 * -wal and -shm files it creates the database file's mode, and those an
 * older vreg left are tightened here too.
 */
function ownerOnly(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
