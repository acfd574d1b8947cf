import { describe, expect, it } from 'vitest';
import { byteBudgetCache } from './byte-budget-cache.ts';

describe('byteBudgetCache', () => {
  it('keeps the most recently used values within its byte budget', () => {
    const c = byteBudgetCache(10);
    c.set('a', Buffer.alloc(4));
    c.set('b', Buffer.alloc(4));
    c.get('a');
    c.set('c', Buffer.alloc(4));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.length).toBe(4);
    expect(c.calculatedSize).toBe(8);
  });

  it('never holds a value larger than the budget', () => {
    const c = byteBudgetCache(10);
    c.set('big', Buffer.alloc(11));
    expect(c.get('big')).toBeUndefined();
    expect(c.calculatedSize).toBe(0);
  });

  it('keeps nothing with a budget of 0', () => {
    const c = byteBudgetCache(0);
    c.set('a', Buffer.alloc(1));
    expect(c.get('a')).toBeUndefined();
    expect(c.calculatedSize).toBe(0);
  });
});
