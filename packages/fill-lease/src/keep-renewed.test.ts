import { describe, expect, it } from 'vitest';
import type { Lease } from './fill-lease.ts';
import { keepRenewed } from './keep-renewed.ts';

const fakeLease = (answers: Array<boolean | Error>): Lease & { renewals: number } => {
  const lease = {
    key: 'k',
    renewals: 0,
    async renew() {
      const a = answers[lease.renewals++] ?? true;
      if (a instanceof Error) throw a;
      return a;
    },
    async release() {},
  };
  return lease;
};

describe('keepRenewed', () => {
  it('renews at a third of the TTL, ticking each time, until stopped', async () => {
    const lease = fakeLease([]);
    let ticks = 0;
    const stop = keepRenewed(lease, 750, { onTick: () => (ticks += 1) });
    await new Promise((r) => setTimeout(r, 900));
    stop();
    const seen = lease.renewals;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(ticks).toBe(seen);
    await new Promise((r) => setTimeout(r, 400));
    expect(lease.renewals).toBe(seen);
  });

  it('reports a lease taken over and a failed renewal', async () => {
    const lease = fakeLease([false, new Error('nats down')]);
    const lost: string[] = [];
    const stop = keepRenewed(lease, 750, { onLost: (reason) => lost.push(reason) });
    await new Promise((r) => setTimeout(r, 600));
    stop();
    expect(lost).toEqual(['lease taken over', 'renewal failed: nats down']);
  });
});
