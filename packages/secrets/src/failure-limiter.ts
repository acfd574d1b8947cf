import { LRUCache } from 'lru-cache';

/** Settings of a `FailureLimiter`. */
export interface FailureLimiterOptions {
  /** Failures a key may have in a row before it is throttled (the bucket size). */
  burst: number;
  /** Seconds for a full bucket to refill: one failure is forgiven every `windowSeconds / burst`. */
  windowSeconds: number;
  /** Keys remembered at most; the least recently failed are forgotten first. Keys should be short (hashed) to bound memory. */
  maxKeys: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Throttles failed attempts per key (a client address, a username) with a
 * token bucket: each failure takes a token, time puts them back. Successes
 * cost nothing, so only repeated failures are throttled. State lives in the
 * process: every gateway replica counts on its own.
 */
export class FailureLimiter {
  readonly #options: Required<FailureLimiterOptions>;
  readonly #refillPerMs: number;
  /**
   * Bounded: a flood of distinct keys forgets the least recently failed first.
   * Made at the first failure: lru-cache allocates its arrays for `maxKeys`
   * up front (~4 MB for 100,000 keys), memory a process that never sees a
   * wrong password need not hold.
   */
  #buckets: LRUCache<string, Bucket> | undefined;

  constructor(options: FailureLimiterOptions) {
    this.#options = { now: Date.now, ...options };
    this.#refillPerMs = options.burst / (options.windowSeconds * 1000);
  }

  /** Seconds until `key` may try again, or undefined when it may now. */
  retryAfterSeconds(key: string): number | undefined {
    const bucket = this.#current(key);
    if (bucket === undefined || bucket.tokens >= 1) return undefined;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#refillPerMs / 1000));
  }

  /** Records one failure of `key`. */
  fail(key: string): void {
    const bucket = this.#current(key) ?? { tokens: this.#options.burst, updatedMs: this.#options.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // set() makes it the most recently failed; a read (peek, below) does not.
    this.#buckets ??= this.#newBuckets();
    this.#buckets.set(key, bucket);
  }

  /** Number of keys remembered (for tests and metrics). */
  get size(): number {
    this.#buckets?.purgeStale();
    return this.#buckets?.size ?? 0;
  }

  #newBuckets(): LRUCache<string, Bucket> {
    // A bucket full again (windowSeconds after its last failure) means nothing: it expires then, whether looked up or not.
    return new LRUCache({
      max: this.#options.maxKeys,
      ttl: this.#options.windowSeconds * 1000,
      ttlResolution: 0,
      perf: { now: this.#options.now },
    });
  }

  #current(key: string): Bucket | undefined {
    const bucket = this.#buckets?.peek(key);
    if (bucket === undefined) return undefined;
    const now = this.#options.now();
    bucket.tokens = Math.min(this.#options.burst, bucket.tokens + (now - bucket.updatedMs) * this.#refillPerMs);
    bucket.updatedMs = now;
    if (bucket.tokens >= this.#options.burst) {
      this.#buckets?.delete(key);
      return undefined;
    }
    return bucket;
  }
}
