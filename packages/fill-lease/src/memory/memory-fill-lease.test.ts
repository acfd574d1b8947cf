import { describe, expect, it } from 'vitest';
import { describeFillLease } from '../testing/describe-fill-lease.ts';
import { MemoryFillLease } from './memory-fill-lease.ts';

describeFillLease(
  'memory',
  async () => {
    const lease = new MemoryFillLease();
    return { lease, cleanup: async () => lease.clear() };
  },
  { ttlMs: 150 },
);

describe('MemoryFillLease', () => {
  it('forgets an expired lease even if its timer has not fired yet', async () => {
    const leases = new MemoryFillLease();
    const lease = await leases.acquire('k', 30, 'a');
    const realNow = Date.now;
    Date.now = () => realNow() + 60; // the clock decides, not the timer
    try {
      expect(await leases.holderOf('k')).toBeUndefined();
      expect(await lease?.renew()).toBe(false);
      expect(await leases.acquire('k', 30, 'b')).toBeDefined();
    } finally {
      Date.now = realNow;
      leases.clear();
    }
  });
});
