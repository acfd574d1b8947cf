import { describe, expect, it } from 'vitest';
import { ByteBudgetCache } from './byte-budget-cache.ts';

describe('ByteBudgetCache', () => {
  it('keeps the most recently used values within its byte budget', () => {
    const c = new ByteBudgetCache(10);
    c.set('a', Buffer.alloc(4));
    c.set('b', Buffer.alloc(4));
    c.get('a');
    c.set('c', Buffer.alloc(4));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.length).toBe(4);
    expect(c.bytes).toBe(8);
  });

  it('never holds a value larger than the budget', () => {
    const c = new ByteBudgetCache(10);
    c.set('big', Buffer.alloc(11));
    expect(c.get('big')).toBeUndefined();
    expect(c.bytes).toBe(0);
  });
});
