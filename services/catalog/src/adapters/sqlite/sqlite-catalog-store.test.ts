import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCatalogStore } from '../testing/describe-catalog-store.ts';
import { SqliteCatalogStore } from './sqlite-catalog-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vreg-catalog-sqlite-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeCatalogStore('SqliteCatalogStore', async () => SqliteCatalogStore.open({ dataDir: join(root, `db-${++n}`) }));

describe('SqliteCatalogStore on disk', () => {
  it('keeps its data across a close and a reopen of the same file', async () => {
    const dataDir = join(root, 'reopen');
    const first = SqliteCatalogStore.open({ dataDir });
    const registry = await first.registries.create({ name: 'persisted' });
    await first.close();
    const second = SqliteCatalogStore.open({ dataDir });
    expect(await second.registries.get(registry.id)).toMatchObject({ name: 'persisted' });
    expect((await second.registries.create({ name: 'next' })).id).not.toBe(registry.id);
    await second.close();
  });

  it('runs in WAL mode', async () => {
    const store = SqliteCatalogStore.open({ dataDir: join(root, 'wal') });
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(store.path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
