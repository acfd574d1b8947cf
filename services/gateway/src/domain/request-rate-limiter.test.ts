import { describe, expect, it } from 'vitest';
import { RequestRateLimiter } from './request-rate-limiter.ts';

describe('RequestRateLimiter', () => {
  it('lets a key make limit requests per window, then tells it to wait for the window edge', () => {
    let now = 1_000_000;
    const limiter = new RequestRateLimiter({ limit: 3, windowMs: 15_000, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([undefined, undefined, undefined]);
    expect(limiter.take('a')).toBe(5); // 1 000 000 ms is 10 s into a 15 s window
    expect(limiter.take('b')).toBeUndefined();
    now += 5_000;
    expect(limiter.take('a')).toBeUndefined();
  });

  it('counts nothing when the limit is 0', () => {
    const limiter = new RequestRateLimiter({ limit: 0, windowMs: 1000 });
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 10_000; i++) expect(limiter.take('a')).toBeUndefined();
  });

  it('forgets the oldest keys past maxKeys instead of growing', () => {
    const limiter = new RequestRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2, now: () => 0 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // forgets a
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('c')).toBeGreaterThan(0);
  });

  it('refuses nonsense settings', () => {
    expect(() => new RequestRateLimiter({ limit: -1, windowMs: 1000 })).toThrow(RangeError);
    expect(() => new RequestRateLimiter({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
