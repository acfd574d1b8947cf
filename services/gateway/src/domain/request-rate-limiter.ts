/** Settings of a {@link RequestRateLimiter}. */
export interface RequestRateLimiterOptions {
  /** Requests one key may make per window; 0 turns the limiter off. */
  limit: number;
  /** Window length in ms. */
  windowMs: number;
  /** Keys remembered within one window at most; past it the oldest are forgotten (a spoofed-address flood must not grow memory). */
  maxKeys?: number;
  now?: () => number;
}

/**
 * Counts requests per key (a client address) in fixed windows, as GitLab's
 * rack-attack throttles do: at most `limit` requests per `windowMs`, the
 * count starting again at each window's edge. State is in memory, one per
 * gateway replica; all counts are dropped at every window edge, so memory
 * is bounded by the addresses seen in one window (and `maxKeys`).
 */
export class RequestRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #window = -1;
  // A plain Map, not lru-cache: counts live one window and are dropped whole at its edge, and past maxKeys the
  // first key counted goes (insertion order); no recency to keep, on a path every /v2 request takes.
  #counts = new Map<string, number>();

  constructor(options: RequestRateLimiterOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0)
      throw new RangeError(`limit must be a non-negative integer, got ${options.limit}`);
    if (!Number.isSafeInteger(options.windowMs) || options.windowMs <= 0)
      throw new RangeError(`windowMs must be a positive integer, got ${options.windowMs}`);
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the limiter counts anything at all. */
  get enabled(): boolean {
    return this.#limit > 0;
  }

  /**
   * Counts one request of `key`.
   * @returns undefined when it may proceed, else the seconds until the window ends (for `Retry-After`)
   */
  take(key: string): number | undefined {
    if (this.#limit === 0) return undefined;
    const now = this.#now();
    const window = Math.floor(now / this.#windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
    }
    const count = (this.#counts.get(key) ?? 0) + 1;
    if (count > this.#limit) return Math.max(1, Math.ceil(((window + 1) * this.#windowMs - now) / 1000));
    if (!this.#counts.has(key) && this.#counts.size >= this.#maxKeys) {
      this.#counts.delete(this.#counts.keys().next().value as string);
    }
    this.#counts.set(key, count);
    return undefined;
  }
}
