import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reuseStatements } from './reused-statements.ts';

describe('reuseStatements', () => {
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  });
  afterEach(() => db.close());

  it('compiles a SQL text once and answers every later call with the same statement', () => {
    reuseStatements(db);
    const insert = 'INSERT INTO t (k, v) VALUES (?, ?)';
    expect(db.prepare(insert)).toBe(db.prepare(insert));
    expect(db.prepare('SELECT v FROM t WHERE k = ?')).not.toBe(db.prepare(insert));
  });

  it('gives the same results through a reused statement as through fresh ones', () => {
    reuseStatements(db);
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
    ] as const)
      db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, v);
    const get = (k: string): unknown => db.prepare('SELECT v FROM t WHERE k = ?').get(k);
    expect([get('a'), get('b'), get('c')]).toEqual([{ v: 1 }, { v: 2 }, undefined]);
    expect(db.prepare('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('keeps at most `max` statements, dropping the least recently used', () => {
    reuseStatements(db, 2);
    const a = db.prepare('SELECT 1 AS a');
    const b = db.prepare('SELECT 2 AS b');
    expect(db.prepare('SELECT 1 AS a')).toBe(a); // a is now the most recent
    db.prepare('SELECT 3 AS c'); // evicts b, the least recent
    expect(db.prepare('SELECT 1 AS a')).toBe(a);
    expect(db.prepare('SELECT 2 AS b')).not.toBe(b);
  });

  it('leaves the prototype alone: a statement of its own is still one call away', () => {
    reuseStatements(db);
    const shared = db.prepare('SELECT k FROM t');
    expect(Database.prototype.prepare.call(db, 'SELECT k FROM t')).not.toBe(shared);
  });

  it('reports a SQL error at every call, caching nothing for it', () => {
    reuseStatements(db);
    expect(() => db.prepare('SELECT nope FROM t')).toThrow(/no such column/);
    expect(() => db.prepare('SELECT nope FROM t')).toThrow(/no such column/);
  });
});
