import { createHash } from 'node:crypto';
import { rateLimitKey } from './rate-limit-key.ts';

/**
 * The keys a failed login is counted under.
 *
 * `address`: the client's IPv4 address or IPv6 /64, as the pull limiter
 * counts it, so a host cannot rotate through its own /64 to get fresh
 * attempts.
 *
 * `username`: the (username, network) pair, hashed. A username is not an
 * account here (any username goes with any access token; the token is the
 * secret), so a count per username alone guards nothing, yet lets anyone
 * lock a user out everywhere by failing ten times under that name. Counted
 * per pair, failures as `victim` slow only the network that made them; the
 * real `victim` elsewhere is untouched. Guessing is slowed by the address
 * count, whatever names a guesser rotates through. The pair's own, smaller
 * bucket stops one stale credential (a CI job retrying with a revoked
 * token) before it spends the whole network's allowance, which an office
 * behind one NAT shares. Hashed (128 bits) so a 16 KiB username costs what
 * any other does in the limiter.
 */
export function loginFailureKeys(ip: string, username: string): { address: string; username: string | undefined } {
  const address = rateLimitKey(ip);
  // An empty username (refresh-token grants) is nobody's name: nothing to count it under but the address.
  if (username === '') return { address, username: undefined };
  const digest = createHash('sha256').update(address).update('\0').update(username.toLowerCase()).digest('base64url');
  return { address, username: digest.slice(0, 22) };
}
