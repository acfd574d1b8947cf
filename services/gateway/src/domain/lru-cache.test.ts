import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.ts';

describe('LruCache', () => {
  it('forgets the least recently used key when full', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1, Infinity);
    c.set('b', 2, Infinity);
    c.get('a');
    c.set('c', 3, Infinity);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.value).toBe(1);
    expect(c.size).toBe(2);
  });

  it('reports values past their expiry as stale but still returns them', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1, 10, 1000);
    expect(c.get('a', 1005)).toEqual({ value: 1, fresh: true });
    expect(c.get('a', 1011)).toEqual({ value: 1, fresh: false });
  });
});
