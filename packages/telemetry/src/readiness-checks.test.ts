import { BlobStoreUnavailableError } from '@vreg/blob-store';
import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness.ts';
import { storeCheck, WRITE_PROBE_FAILURE_TTL_MS, WRITE_PROBE_TTL_MS } from './readiness-checks.ts';

/** A store whose write probe counts its calls and fails while `broken` says why. */
function probedStore() {
  const store = {
    probes: 0,
    broken: undefined as string | undefined,
    stat: async () => undefined,
    probeWritable: async () => {
      store.probes += 1;
      if (store.broken !== undefined) throw new BlobStoreUnavailableError(store.broken);
    },
  };
  return store;
}

describe('storeCheck', () => {
  it("fails /readyz with the store's own words when a write does not go through", async () => {
    const store = probedStore();
    store.broken = 'S3 bucket vreg-blobs does not exist: create it, or set VREG_S3_CREATE_BUCKET=true to have vreg create it';
    const report = await new Readiness([storeCheck(store)]).report();
    expect(report).toMatchObject({
      status: 'unready',
      checks: { store: { ok: false, error: 'BLOB_STORE_UNAVAILABLE', message: expect.stringContaining('vreg-blobs does not exist') } },
    });
  });

  it('probes at most once per TTL while it succeeds, and soon again after a failure', async () => {
    let now = 1_000_000;
    const store = probedStore();
    const check = storeCheck(store, true, () => now);
    const signal = new AbortController().signal;
    await Promise.all([check.check(signal), check.check(signal), check.check(signal)]);
    expect(store.probes).toBe(1);
    now += WRITE_PROBE_TTL_MS - 1;
    await check.check(signal);
    expect(store.probes).toBe(1);
    now += 1;
    store.broken = 'bucket gone';
    await expect(check.check(signal)).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    expect(store.probes).toBe(2);
    await expect(check.check(signal)).rejects.toThrow('bucket gone');
    expect(store.probes).toBe(2);
    now += WRITE_PROBE_FAILURE_TTL_MS;
    store.broken = undefined;
    await check.check(signal);
    expect(store.probes).toBe(3);
  });

  it('reads instead of writing for a store without a write probe (the disk of embedded mode)', async () => {
    const asked: string[] = [];
    const check = storeCheck({ stat: async (digest: string) => void asked.push(digest) });
    await check.check(new AbortController().signal);
    expect(asked).toEqual([`sha256:${'0'.repeat(64)}`]);
  });
});
