import type { FillLease, Lease } from '../fill-lease.ts';

interface Held {
  holder: string;
  /** Identifies one acquisition, so a lost lease cannot renew or release its successor. */
  token: object;
  /** Epoch ms. */
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * `FillLease` in-process (embedded mode, unit tests): one map entry per
 * held key, forgotten by an unref'd timer at expiry so the map stays small.
 */
export class MemoryFillLease implements FillLease {
  readonly #held = new Map<string, Held>();

  /** Takes `key` for `ttlMs` unless someone holds it. */
  async acquire(key: string, ttlMs: number, holder: string): Promise<Lease | undefined> {
    if (this.#current(key)) return undefined;
    const token = {};
    this.#hold(key, holder, token, ttlMs);
    return {
      key,
      renew: async () => {
        const held = this.#current(key);
        if (held?.token !== token) return false;
        clearTimeout(held.timer);
        this.#hold(key, holder, token, ttlMs);
        return true;
      },
      release: async () => {
        const held = this.#held.get(key);
        if (held?.token !== token) return;
        clearTimeout(held.timer);
        this.#held.delete(key);
      },
    };
  }

  /** The holder of `key`, if its lease has not expired. */
  async holderOf(key: string): Promise<string | undefined> {
    return this.#current(key)?.holder;
  }

  /** Releases every lease and cancels the timers. */
  clear(): void {
    for (const held of this.#held.values()) clearTimeout(held.timer);
    this.#held.clear();
  }

  // The timer frees memory; expiry itself is decided by the clock, so a
  // delayed timer never extends a lease.
  #current(key: string): Held | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    if (Date.now() < held.expiresAt) return held;
    clearTimeout(held.timer);
    this.#held.delete(key);
    return undefined;
  }

  #hold(key: string, holder: string, token: object, ttlMs: number): void {
    const timer = setTimeout(() => {
      if (this.#held.get(key)?.token === token) this.#held.delete(key);
    }, ttlMs);
    timer.unref();
    this.#held.set(key, { holder, token, expiresAt: Date.now() + ttlMs, timer });
  }
}
