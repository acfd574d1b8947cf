import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.ts';

describe('LruCache', () => {
  it('evicts the least recently used entry past its bound', () => {
    const cache = new LruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    expect(cache.size).toBe(2);
  });

  it('forgets an entry once its time is up', () => {
    let now = 0;
    const cache = new LruCache<string>(10, () => now);
    cache.set('t', 'token', 1000);
    now = 999;
    expect(cache.get('t')).toBe('token');
    now = 1000;
    expect(cache.get('t')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
