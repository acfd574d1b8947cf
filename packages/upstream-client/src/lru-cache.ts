/**
 * A small LRU map with a per-entry expiry, bounded in entries. Holds the
 * client's bearer tokens and the origins known to want Basic auth, so that
 * state lives in the client instance and a flood of distinct scopes cannot
 * grow it without bound.
 */
export class LruCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  /**
   * @param maxEntries entries kept before the least recently used is evicted (at least 1)
   * @param now clock in ms since the epoch, replaceable in tests
   */
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** Entries currently held, expired ones included until touched. */
  get size(): number {
    return this.#entries.size;
  }

  /** The live value under `key`, marking it most recently used; expired entries are dropped. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.#entries.set(key, entry); // re-insert: Map order is our recency order
    return entry.value;
  }

  /**
   * Stores `value` under `key` for `ttlMs` milliseconds (`Infinity` for no
   * expiry), evicting the least recently used entry when full.
   */
  set(key: string, value: V, ttlMs = Number.POSITIVE_INFINITY): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Forgets `key`, e.g. a token the upstream just rejected. */
  delete(key: string): void {
    this.#entries.delete(key);
  }
}
