import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FillLease, Lease } from '../fill-lease.ts';

/** A lease store under test and how to tear it down. */
export interface FillLeaseFixture {
  lease: FillLease;
  cleanup(): Promise<void>;
}

/** Timing of the suite: adapters with coarse expiry (NATS counts whole seconds) need longer. */
export interface FillLeaseSuiteOptions {
  /** TTL of the short leases the expiry cases take. Default 1000. */
  ttlMs?: number;
  /** How late after the TTL an expiry may be observed. Default 3 × ttlMs. */
  expirySlackMs?: number;
}

/**
 * The `FillLease` contract, run against every adapter with a fresh store
 * per case.
 */
export function describeFillLease(name: string, make: () => Promise<FillLeaseFixture>, options: FillLeaseSuiteOptions = {}): void {
  const ttlMs = options.ttlMs ?? 1000;
  const slackMs = options.expirySlackMs ?? 3 * ttlMs;

  describe(`FillLease contract: ${name}`, () => {
    let fixture: FillLeaseFixture;
    let leases: FillLease;
    let key: string;

    beforeEach(async () => {
      fixture = await make();
      leases = fixture.lease;
      key = `registry-1/library/alpine/blobs/sha256:${randomUUID()}`;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('lets exactly one of many concurrent acquirers win', async () => {
      const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => leases.acquire(key, 30_000, `filler-${i}`)));
      const winners = attempts.flatMap((lease, i) => (lease ? [`filler-${i}`] : []));
      expect(winners).toHaveLength(1);
      expect(await leases.holderOf(key)).toBe(winners[0]);
    });

    it('lets another filler take the lease once it expired', async () => {
      const started = Date.now();
      expect(await leases.acquire(key, ttlMs, 'a')).toBeDefined();
      expect(await leases.acquire(key, ttlMs, 'b')).toBeUndefined();
      const taken = await acquireWithin(leases, key, ttlMs, 'b', ttlMs + slackMs);
      expect(Date.now() - started).toBeGreaterThanOrEqual(ttlMs * 0.9);
      expect(taken).toBeDefined();
      expect(await leases.holderOf(key)).toBe('b');
    });

    it('keeps the lease for as long as the holder renews it', async () => {
      // A renewal later than the TTL loses the lease by design, and a busy machine can stall a test for a second or
      // more: here the TTL is long and renewals come every fifth of it, so only a stall of 0.8 TTL could break the case.
      const renewTtlMs = Math.max(ttlMs, 2000);
      const lease = await leases.acquire(key, renewTtlMs, 'a');
      const deadline = Date.now() + 2 * renewTtlMs;
      while (Date.now() < deadline) {
        await sleep(renewTtlMs * 0.2);
        expect(await lease?.renew()).toBe(true);
        expect(await leases.acquire(key, renewTtlMs, 'b')).toBeUndefined();
      }
      expect(await leases.holderOf(key)).toBe('a');
    });

    it('keeps the lease through renewals that overlap (an answer lost in transit looks the same)', async () => {
      const lease = await leases.acquire(key, 30_000, 'a');
      expect(await Promise.all([lease?.renew(), lease?.renew(), lease?.renew()])).toEqual([true, true, true]);
      expect(await lease?.renew()).toBe(true);
      expect(await leases.acquire(key, 30_000, 'b')).toBeUndefined();
      await lease?.release();
      expect(await leases.holderOf(key)).toBeUndefined();
    });

    it('lets another filler take the lease at once after a release', async () => {
      const lease = await leases.acquire(key, 30_000, 'a');
      await lease?.release();
      expect(await leases.holderOf(key)).toBeUndefined();
      expect(await leases.acquire(key, 30_000, 'b')).toBeDefined();
      expect(await leases.holderOf(key)).toBe('b');
    });

    it('answers false to a renew after the lease was lost, and the old holder cannot release the new one', async () => {
      const lost = await leases.acquire(key, ttlMs, 'a');
      const taken = await acquireWithin(leases, key, 30_000, 'b', ttlMs + slackMs);
      expect(taken).toBeDefined();
      expect(await lost?.renew()).toBe(false);
      await lost?.release();
      expect(await leases.holderOf(key)).toBe('b');
    });

    it('answers false to a renew after expiry even when nobody took the lease', async () => {
      const lease = await leases.acquire(key, ttlMs, 'a');
      const deadline = Date.now() + ttlMs + slackMs;
      while ((await leases.holderOf(key)) !== undefined && Date.now() < deadline) await sleep(50);
      expect(await leases.holderOf(key)).toBeUndefined();
      expect(await lease?.renew()).toBe(false);
    });

    it('keeps leases on different keys apart, whatever characters the keys hold', async () => {
      const keys = [key, `${key} with spaces:and*wildcards>`, 'ü'.repeat(600), 'a.b'];
      for (const [i, k] of keys.entries()) expect(await leases.acquire(k, 30_000, `h${i}`)).toBeDefined();
      for (const [i, k] of keys.entries()) expect(await leases.holderOf(k)).toBe(`h${i}`);
      expect(await leases.holderOf('a/b')).toBeUndefined();
    });

    it('never throws from release, even twice', async () => {
      const lease = await leases.acquire(key, 30_000, 'a');
      await expect(lease?.release()).resolves.toBeUndefined();
      await expect(lease?.release()).resolves.toBeUndefined();
      expect(await leases.holderOf(key)).toBeUndefined();
    });
  });
}

async function acquireWithin(leases: FillLease, key: string, ttlMs: number, holder: string, withinMs: number): Promise<Lease | undefined> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const lease = await leases.acquire(key, ttlMs, holder);
    if (lease || Date.now() > deadline) return lease;
    await sleep(50);
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
