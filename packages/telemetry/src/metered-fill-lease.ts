import type { FillLease, Lease } from '@vreg/fill-lease';
import type { ObjectKindLabel, VregMetrics } from './vreg-metrics.ts';

/** `blob/<digest>` → blob, `manifest/<registry>/<image>/<ref>` → manifest (see @vreg/fill's lease keys). */
function kindOfKey(key: string): ObjectKindLabel {
  if (key.startsWith('blob/')) return 'blob';
  if (key.startsWith('manifest/')) return 'manifest';
  return 'other';
}

/**
 * A `FillLease` that counts: every lease held is a fill in flight
 * (`vreg_fills_in_flight`, back down on release), every refusal is lease
 * contention (`vreg_lease_contention_total`). Gateways and fetchers take a
 * lease for every fill, so this sees them all without touching fill code.
 */
export class MeteredFillLease implements FillLease {
  readonly #inner: FillLease;
  readonly #metrics: VregMetrics;

  constructor(inner: FillLease, metrics: VregMetrics) {
    this.#inner = inner;
    this.#metrics = metrics;
    metrics.initFillSeries();
  }

  async acquire(key: string, ttlMs: number, holder: string): Promise<Lease | undefined> {
    const kind = kindOfKey(key);
    const lease = await this.#inner.acquire(key, ttlMs, holder);
    if (!lease) {
      this.#metrics.leaseContended(kind);
      return undefined;
    }
    this.#metrics.fillInFlight(kind, 1);
    let released = false;
    return {
      key: lease.key,
      renew: () => lease.renew(),
      release: async () => {
        if (!released) {
          released = true;
          this.#metrics.fillInFlight(kind, -1);
        }
        await lease.release();
      },
    };
  }

  holderOf(key: string): Promise<string | undefined> {
    return this.#inner.holderOf(key);
  }
}
