import { describe, expect, it } from 'vitest';
import { loginFailureKeys } from '../domain/login-failure-keys.ts';
import { FailureLimiter } from './failure-limiter.ts';

describe('FailureLimiter', () => {
  it('lets a key fail `burst` times, then asks it to wait until time forgives one failure', () => {
    let now = 0;
    const limiter = new FailureLimiter({ burst: 3, windowSeconds: 30, maxKeys: 10, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.retryAfterSeconds('a')).toBeUndefined();
      limiter.fail('a');
    }
    expect(limiter.retryAfterSeconds('a')).toBe(10);
    expect(limiter.retryAfterSeconds('b')).toBeUndefined();
    now += 9_000;
    expect(limiter.retryAfterSeconds('a')).toBe(1);
    now += 1_000;
    expect(limiter.retryAfterSeconds('a')).toBeUndefined();
    limiter.fail('a');
    expect(limiter.retryAfterSeconds('a')).toBe(10);
  });

  it('forgets fully recovered keys and keeps at most maxKeys', () => {
    let now = 0;
    const limiter = new FailureLimiter({ burst: 2, windowSeconds: 2, maxKeys: 3, now: () => now });
    for (const key of ['a', 'b', 'c', 'd']) limiter.fail(key);
    expect(limiter.size).toBe(3);
    now += 2_000;
    for (const key of ['b', 'c', 'd']) expect(limiter.retryAfterSeconds(key)).toBeUndefined();
    expect(limiter.size).toBe(0);
  });

  it('stays within maxKeys under 200,000 distinct usernames, each key 22 characters however long the name', () => {
    const limiter = new FailureLimiter({ burst: 10, windowSeconds: 300, maxKeys: 100_000 });
    for (let i = 0; i < 200_000; i += 1) {
      const { username } = loginFailureKeys('2001:db8:1:2::1', `user-${i}-${'x'.repeat(i % 64 === 0 ? 16 * 1024 : 8)}`);
      limiter.fail(username as string);
    }
    expect(limiter.size).toBe(100_000);
  });

  it('forgets a key windowSeconds after its last failure without it being looked up', () => {
    let now = 1_000_000;
    const limiter = new FailureLimiter({ burst: 5, windowSeconds: 10, maxKeys: 10, now: () => now });
    limiter.fail('a');
    now += 9_000;
    expect(limiter.size).toBe(1);
    now += 1_001;
    expect(limiter.size).toBe(0);
  });
});
