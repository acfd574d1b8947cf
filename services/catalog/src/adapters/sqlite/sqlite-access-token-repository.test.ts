import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCatalogStore } from './sqlite-catalog-store.ts';
import { MIGRATIONS } from './sqlite-schema.ts';

const root = mkdtempSync(join(tmpdir(), 'vreg-catalog-sqlite-tokens-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SqliteCatalogStore migration to access control', () => {
  it('keeps the registries of a version 1 database, private, and adds the access_tokens table', async () => {
    const dataDir = join(root, 'v1');
    const store = SqliteCatalogStore.open({ dataDir });
    await store.close();
    // Rebuild the file as vreg before access control left it.
    rmSync(store.path, { force: true });
    const old = new Database(store.path);
    old.exec(MIGRATIONS[0] as string);
    old.pragma('user_version = 1');
    old
      .prepare(
        "INSERT INTO registries (name, created_at, updated_at) VALUES ('old', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')",
      )
      .run();
    old.close();

    const migrated = SqliteCatalogStore.open({ dataDir });
    expect(await migrated.registries.get('1')).toMatchObject({ name: 'old', visibility: 'private' });
    const token = await migrated.accessTokens.create({
      name: 't',
      tokenDigest: 'c'.repeat(64),
      tokenPrefix: 'vregat_cccc',
      scopes: ['admin'],
    });
    expect(await migrated.accessTokens.findByDigest('c'.repeat(64))).toEqual(token);
    await migrated.close();
  });
});
