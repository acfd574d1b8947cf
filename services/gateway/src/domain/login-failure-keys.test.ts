import { describe, expect, it } from 'vitest';
import { loginFailureKeys } from './login-failure-keys.ts';

describe('loginFailureKeys', () => {
  it('counts an IPv6 client by its /64 and an IPv4 one by its address', () => {
    expect(loginFailureKeys('2001:db8:1:2::17', 'a').address).toBe('2001:db8:1:2::/64');
    expect(loginFailureKeys('2001:db8:1:2:ffff::9', 'b').address).toBe('2001:db8:1:2::/64');
    expect(loginFailureKeys('::ffff:192.0.2.1', 'a').address).toBe('192.0.2.1');
  });

  it('keys a username per network, case-insensitively, in 22 characters whatever its length', () => {
    const here = loginFailureKeys('192.0.2.1', 'Victim').username;
    expect(here).toBe(loginFailureKeys('192.0.2.1', 'victim').username);
    expect(here).not.toBe(loginFailureKeys('192.0.2.2', 'victim').username);
    expect(loginFailureKeys('2001:db8:1:2::1', 'victim').username).toBe(loginFailureKeys('2001:db8:1:2::2', 'victim').username);
    expect(here).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(loginFailureKeys('192.0.2.1', 'x'.repeat(16 * 1024)).username).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('counts an empty username (a refresh-token grant) under the address only', () => {
    expect(loginFailureKeys('192.0.2.1', '')).toEqual({ address: '192.0.2.1', username: undefined });
  });
});
