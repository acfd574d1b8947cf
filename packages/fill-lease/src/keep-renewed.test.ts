import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from './fill-lease.ts';
import { keepRenewed } from './keep-renewed.ts';

type Answer = boolean | Error | (() => Promise<boolean>);

const fakeLease = (answers: Answer[]): Lease & { renewals: number; inFlight: number; maxInFlight: number } => {
  const lease = {
    key: 'k',
    renewals: 0,
    inFlight: 0,
    maxInFlight: 0,
    async renew() {
      const a = answers[lease.renewals++] ?? true;
      lease.inFlight += 1;
      lease.maxInFlight = Math.max(lease.maxInFlight, lease.inFlight);
      try {
        if (a instanceof Error) throw a;
        return typeof a === 'function' ? await a() : a;
      } finally {
        lease.inFlight -= 1;
      }
    },
    async release() {},
  };
  return lease;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Fake timers: the schedule is checked to the millisecond, whatever the machine's load.
describe('keepRenewed', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews at a third of the TTL, ticking each time, until stopped', async () => {
    const lease = fakeLease([]);
    const ticks: number[] = [];
    const stop = keepRenewed(lease, 750, { onTick: () => ticks.push(performance.now()) });
    await vi.advanceTimersByTimeAsync(800);
    stop();
    expect(ticks).toEqual([250, 500, 750]);
    expect(lease.renewals).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lease.renewals).toBe(3);
  });

  it('never sends a renewal while the previous one is unanswered, and sends it as soon as it is due', async () => {
    const slow = (): Promise<boolean> => sleep(400).then(() => true);
    const lease = fakeLease([slow, slow, true]);
    const sent: number[] = [];
    const stop = keepRenewed(lease, 750, { onTick: () => sent.push(performance.now()) });
    await vi.advanceTimersByTimeAsync(1200);
    stop();
    expect(lease.maxInFlight).toBe(1);
    // Each due 250 ms after the previous was sent: past due at the slow answer (400 ms), so sent at
    // once (a 0 ms timer fires 1 ms later), not another 250 ms later.
    expect(sent).toEqual([250, 651, 1052]);
  });

  it('retries a failed renewal after a tenth of the TTL, and stops for good once the lease is lost', async () => {
    const lease = fakeLease([new Error('nats down'), true, false]);
    const lost: string[] = [];
    const failed: string[] = [];
    const sent: number[] = [];
    const stop = keepRenewed(lease, 3000, {
      onTick: () => sent.push(performance.now()),
      onLost: (reason) => lost.push(reason),
      onFailed: (err) => failed.push(err.message),
    });
    await vi.advanceTimersByTimeAsync(10_000);
    stop();
    expect(sent).toEqual([1000, 1300, 2300]);
    expect(failed).toEqual(['nats down']);
    expect(lost).toHaveLength(1);
  });
});
