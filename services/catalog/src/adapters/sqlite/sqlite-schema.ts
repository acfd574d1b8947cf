import type Database from 'better-sqlite3';

/**
 * Schema migrations of the embedded catalog, applied in order and recorded
 * in `PRAGMA user_version`. Column names are the MongoDB document field
 * names (GitLab's), so both stores read the same way.
 *
 * There are no foreign keys on purpose: the MongoDB store has none either,
 * and the cascade lives in one place (`CatalogAdmin`) so both stores behave
 * alike under the same contract suite.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE registries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE upstreams (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    registry_id          INTEGER NOT NULL,
    name                 TEXT NOT NULL,
    url                  TEXT NOT NULL,
    username             TEXT,
    password_sealed      TEXT,
    cache_validity_hours INTEGER NOT NULL DEFAULT 24,
    position             INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
  );
  CREATE INDEX upstreams_registry_position ON upstreams (registry_id, position);
  CREATE TABLE cache_entries (
    upstream_id         INTEGER NOT NULL,
    registry_id         INTEGER NOT NULL,
    relative_path       TEXT NOT NULL,
    digest              TEXT NOT NULL,
    content_type        TEXT NOT NULL,
    size                INTEGER NOT NULL,
    upstream_etag       TEXT,
    upstream_checked_at TEXT NOT NULL,
    downloads_count     INTEGER NOT NULL DEFAULT 0,
    downloaded_at       TEXT,
    status              TEXT NOT NULL DEFAULT 'default',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (upstream_id, relative_path)
  ) WITHOUT ROWID;
  `,
  // 2: access control. Existing registries stay private; tokens are kept by
  // their sha256 only (token_digest), never in clear.
  `
  ALTER TABLE registries ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
  CREATE TABLE access_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    registry_ids TEXT,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  `,
  // 3: Docker Hub's `library/` convention per upstream; on for existing Docker Hub upstreams.
  `
  ALTER TABLE upstreams ADD COLUMN library_prefix INTEGER NOT NULL DEFAULT 0;
  UPDATE upstreams SET library_prefix = 1
   WHERE url LIKE 'https://registry-1.docker.io%' OR url LIKE 'https://index.docker.io%' OR url LIKE 'https://docker.io%' OR url LIKE 'https://registry.hub.docker.com%';
  `,
  // 4: jobs (purge, cleanup, GC, warm-up). JSON columns hold the kind-specific params/result.
  `
  CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    registry_id INTEGER,
    params      TEXT NOT NULL,
    progress    TEXT NOT NULL,
    result      TEXT,
    errors      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    updated_at  TEXT NOT NULL
  );
  CREATE INDEX jobs_kind_state ON jobs (kind, state, id);
  `,
  // GC: digests that lost their last live reference (see gc/gc-sweep.ts), and
  // the digest index that reference counting needs.
  `
  CREATE TABLE gc_candidates (
    digest     TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    size       INTEGER NOT NULL,
    marked_at  TEXT NOT NULL,
    claim_id   TEXT,
    claimed_at TEXT,
    deleted_at TEXT
  ) WITHOUT ROWID;
  CREATE INDEX gc_candidates_state_marked ON gc_candidates (state, marked_at);
  CREATE INDEX cache_entries_digest_status ON cache_entries (digest, status);
  CREATE INDEX cache_entries_status ON cache_entries (status);
  `,
  // Lifecycle: per-registry quota, cleanup policies and their audit records,
  // and the index that registry-wide entry queries need.
  `
  ALTER TABLE registries ADD COLUMN max_stored_bytes INTEGER;
  CREATE TABLE cleanup_policies (
    registry_id                    INTEGER PRIMARY KEY,
    enabled                        INTEGER NOT NULL,
    keep_n_days_after_download     INTEGER NOT NULL,
    cadence                        INTEGER NOT NULL,
    next_run_at                    TEXT NOT NULL,
    last_run_at                    TEXT,
    last_run_deleted_entries_count INTEGER NOT NULL DEFAULT 0,
    last_run_deleted_size          INTEGER NOT NULL DEFAULT 0,
    status                         TEXT NOT NULL,
    failure_message                TEXT,
    created_at                     TEXT NOT NULL,
    updated_at                     TEXT NOT NULL
  );
  CREATE INDEX cleanup_policies_due ON cleanup_policies (enabled, next_run_at);
  CREATE TABLE cleanup_runs (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    registry_id                INTEGER NOT NULL,
    job_id                     INTEGER NOT NULL,
    started_at                 TEXT NOT NULL,
    finished_at                TEXT NOT NULL,
    keep_n_days_after_download INTEGER NOT NULL,
    deleted_entries_count      INTEGER NOT NULL,
    deleted_size               INTEGER NOT NULL,
    status                     TEXT NOT NULL
  );
  CREATE INDEX cleanup_runs_registry ON cleanup_runs (registry_id, id);
  CREATE INDEX cache_entries_registry_status ON cache_entries (registry_id, status);
  `,
  // Per-upstream blob size limit; NULL = the services' VREG_UPSTREAM_MAX_BLOB_BYTES.
  `
  ALTER TABLE upstreams ADD COLUMN max_blob_size_bytes INTEGER;
  `,
  // Bounded lifecycle sweeps: pages of a registry's live entries by path
  // (purges), by last activity (quota, cleanup cut-off), and usage grouped
  // by upstream and digest, all read from indexes.
  `
  CREATE INDEX cache_entries_registry_status_path ON cache_entries (registry_id, status, relative_path, upstream_id);
  CREATE INDEX cache_entries_registry_status_activity ON cache_entries (registry_id, status, coalesce(downloaded_at, created_at), relative_path, upstream_id);
  CREATE INDEX cache_entries_registry_status_upstream_digest ON cache_entries (registry_id, status, upstream_id, digest, size);
  `,
  // Pull policies (one JSON document per registry: ordered rules, signature
  // mode and trusted public keys) and the bounded records of their refusals.
  `
  CREATE TABLE pull_policies (
    registry_id INTEGER PRIMARY KEY,
    policy      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE policy_denials (
    id          TEXT PRIMARY KEY,
    registry_id INTEGER NOT NULL,
    image       TEXT NOT NULL,
    reference   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    digest      TEXT,
    mode        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    rule_index  INTEGER,
    rule_name   TEXT,
    message     TEXT NOT NULL,
    client      TEXT NOT NULL,
    token_name  TEXT,
    count       INTEGER NOT NULL,
    at          TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX policy_denials_at ON policy_denials (at, id);
  CREATE INDEX policy_denials_registry_at ON policy_denials (registry_id, at, id);
  `,
];

/** Brings the database to the latest schema version, each step in its own transaction. */
export function migrateCatalogSchema(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`catalog database schema version ${current} is newer than this vreg (${MIGRATIONS.length}); upgrade vreg`);
  }
  MIGRATIONS.slice(current).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${current + i + 1}`);
    })();
  });
}

/** Timestamps are ISO-8601 UTC strings of one fixed width, so SQL compares them correctly as text. */
export function toSqlTime(date: Date): string {
  return date.toISOString();
}

export function fromSqlTime(value: string): Date {
  return new Date(value);
}

/** True for better-sqlite3's unique-constraint error. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
