import type { Logger } from '@vreg/logging';
import type { AccessTokenRepository } from '../ports/access-token-repository.ts';

/**
 * Records when tokens were last used without a write per request: uses are
 * noted in memory (the latest time per token) and written in one batch
 * every `flushIntervalMs`, and on `stop()`. A failed write keeps the times
 * for the next flush. Losing a batch in a crash only makes `lastUsedAt` lag.
 */
export class LastUsedRecorder {
  readonly #repository: AccessTokenRepository;
  readonly #logger: Logger;
  readonly #flushIntervalMs: number;
  #pending = new Map<string, Date>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(repository: AccessTokenRepository, logger: Logger, options: { flushIntervalMs: number }) {
    this.#repository = repository;
    this.#logger = logger;
    this.#flushIntervalMs = options.flushIntervalMs;
  }

  /** Notes a use of token `id` at `at`. */
  touch(id: string, at: Date): void {
    const current = this.#pending.get(id);
    if (current === undefined || current < at) this.#pending.set(id, at);
  }

  /** Starts the periodic flush. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.flush(), this.#flushIntervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes every pending time now; one flush at a time. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#write(batch);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  async #write(batch: Map<string, Date>): Promise<void> {
    for (const [id, at] of batch) {
      try {
        await this.#repository.recordLastUsed(id, at);
      } catch (err) {
        this.touch(id, at);
        this.#logger.warn({ tokenId: id, err: (err as Error).message }, 'recording access token use failed: retrying at the next flush');
      }
    }
  }
}
