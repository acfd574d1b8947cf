/**
 * Immutable byte strings by key (manifests by digest), least recently used
 * first out once their total size passes the budget. A hit costs no disk
 * trip: each stored-manifest read was four thread-pool calls.
 */
export class ByteBudgetCache {
  readonly #budget: number;
  readonly #map = new Map<string, Buffer>();
  #bytes = 0;

  /** @param budgetBytes total bytes kept; 0 keeps nothing. */
  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  get(key: string): Buffer | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.#budget) return;
    const old = this.#map.get(key);
    if (old) {
      this.#map.delete(key);
      this.#bytes -= old.length;
    }
    this.#map.set(key, value);
    this.#bytes += value.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#budget) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
