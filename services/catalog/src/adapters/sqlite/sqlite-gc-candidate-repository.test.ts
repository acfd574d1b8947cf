import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { describeGcCandidateRepository } from '../testing/describe-gc-candidate-repository.ts';
import { SqliteCatalogStore } from './sqlite-catalog-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vreg-catalog-gc-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeGcCandidateRepository('SqliteGcCandidateRepository', async () => {
  const store = SqliteCatalogStore.open({ dataDir: join(root, `db-${++n}`) });
  return {
    store,
    async markPending(upstreamId, relativePath) {
      // A second connection, as purge would write through its own repository; WAL lets both in.
      const db = new Database(store.path);
      try {
        db.prepare(`UPDATE cache_entries SET status = 'pending_destruction' WHERE upstream_id = ? AND relative_path = ?`).run(
          Number(upstreamId),
          relativePath,
        );
      } finally {
        db.close();
      }
    },
  };
});
