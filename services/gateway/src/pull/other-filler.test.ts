import type { FillLease } from '@vreg/fill-lease';
import { describe, expect, it } from 'vitest';
import { awaitOtherFiller } from './other-filler.ts';

/** A lease store naming `holder()` for every key. */
const leases = (holder: () => string | undefined): FillLease => ({ acquire: async () => undefined, holderOf: async () => holder() });

describe('awaitOtherFiller', () => {
  it('resolves what the holder left once it is there', async () => {
    let looks = 0;
    const outcome = await awaitOtherFiller({
      look: async () => (++looks >= 3 ? 'stored' : undefined),
      leases: leases(() => 'other'),
      leaseKey: 'k',
      pollMs: 1,
      until: Date.now() + 60_000,
    });
    expect(outcome).toEqual({ found: 'stored' });
    expect(looks).toBe(3);
  });

  it("answers 'free' at once without a grace, and only after looking on through the grace with one", async () => {
    const free = leases(() => undefined);
    let looks = 0;
    const look = async (): Promise<undefined> => {
      looks += 1;
      return undefined;
    };
    expect(await awaitOtherFiller({ look, leases: free, leaseKey: 'k', pollMs: 1, until: Date.now() + 60_000 })).toBe('free');
    expect(looks).toBe(1);
    looks = 0;
    const started = Date.now();
    expect(await awaitOtherFiller({ look, leases: free, leaseKey: 'k', pollMs: 1, until: Date.now() + 60_000, graceMs: 50 })).toBe('free');
    expect(looks).toBeGreaterThan(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it("answers 'waiting' at its deadline or its signal while the holder keeps the lease", async () => {
    const held = leases(() => 'slow-gateway');
    const look = async (): Promise<undefined> => undefined;
    expect(await awaitOtherFiller({ look, leases: held, leaseKey: 'k', pollMs: 1, until: Date.now() + 30 })).toBe('waiting');
    const stop = new AbortController();
    const waiting = awaitOtherFiller({ look, leases: held, leaseKey: 'k', pollMs: 1, until: Date.now() + 60_000, signal: stop.signal });
    stop.abort();
    expect(await waiting).toBe('waiting');
  });
});
