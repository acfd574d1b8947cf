/** A size-bounded map that forgets the least recently used key first; entries may carry an expiry. */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, { value: V; expiresAt: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  /** The value and whether it is past its expiry (stale values are still returned: callers decide). */
  get(key: K, now = Date.now()): { value: V; fresh: boolean } | undefined {
    const hit = this.#map.get(key);
    if (hit === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, hit);
    return { value: hit.value, fresh: hit.expiresAt > now };
  }

  /** @param ttlMs milliseconds the value is fresh; Infinity for immutable values. */
  set(key: K, value: V, ttlMs: number, now = Date.now()): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAt: now + ttlMs });
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}
