import type { Logger } from '@vreg/logging';

export interface CountedBatchOptions<T> {
  /** How often the gathered items are published, ms. */
  flushIntervalMs: number;
  /** Distinct keys gathered at most between two flushes; past it, a flush starts at once and new keys wait. */
  maxKeys: number;
  /** Publishes one item; a throw keeps it for the next flush. */
  publish: (item: T) => Promise<unknown>;
  /** Folds `from` (the same key, counted later or failed to publish) into `into`. */
  merge: (into: T, from: T) => void;
  /** What the warning names when a publish fails. */
  what: string;
  logger: Logger;
}

/**
 * Items gathered by key off the hot path and published in batches: a record
 * costs a map update, never a round trip, and the same key recorded many
 * times between two flushes goes out once with its count. Flushes run one at
 * a time; what fails to publish is kept (merged into what came since) for
 * the next one.
 */
export class CountedBatch<T> {
  readonly #options: CountedBatchOptions<T>;
  #pending = new Map<string, T>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: CountedBatchOptions<T>) {
    this.#options = options;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Counts `item` under `key`: merged into the pending one of that key, else added while there is room. */
  record(key: string, item: T): void {
    const current = this.#pending.get(key);
    if (current !== undefined) this.#options.merge(current, item);
    else if (this.#pending.size < this.#options.maxKeys) this.#pending.set(key, item);
    if (this.#pending.size >= this.#options.maxKeys) void this.flush();
  }

  /** Publishes what was gathered; what fails to publish is kept for the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, item] of batch) {
      try {
        await this.#options.publish(item);
      } catch (err) {
        this.#options.logger.warn(
          { err: (err as Error).message },
          `publishing ${this.#options.what} failed; keeping it for the next flush`,
        );
        const again = this.#pending.get(key);
        if (again !== undefined) this.#options.merge(again, item);
        else if (this.#pending.size < this.#options.maxKeys) this.#pending.set(key, item);
      }
    }
  }

  /** Stops the timer and publishes what is left. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
