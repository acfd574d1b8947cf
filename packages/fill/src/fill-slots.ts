/** A place among one upstream's running fills; released once, when the fill ended (or never started). */
export interface FillSlot {
  release(): void;
}

/**
 * Bounds the blob fills running at once against each upstream. A fill keeps
 * going after its client left (the next pull must find the object), so
 * without a bound a client could start many large downloads and walk away;
 * with one, the excess is refused before any upstream request.
 */
export interface FillSlots {
  /** A slot for a fill from `upstreamId`, or undefined when its fills are at the limit. */
  tryAcquire(upstreamId: string): FillSlot | undefined;
  /** True when a fill from `upstreamId` would get a slot now (a hint: another caller may take it first). */
  hasRoom(upstreamId: string): boolean;
}

/**
 * Seconds a refused client is asked to wait: a layer's fill usually ends
 * within seconds, and clients that retry (Docker, containerd) back off
 * further on their own.
 */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** Counts this process's fills per upstream against one limit (0 = none). */
export class LocalFillSlots implements FillSlots {
  readonly #limit: number;
  readonly #running = new Map<string, number>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  tryAcquire(upstreamId: string): FillSlot | undefined {
    if (!this.hasRoom(upstreamId)) return undefined;
    this.#running.set(upstreamId, (this.#running.get(upstreamId) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#running.get(upstreamId) ?? 1) - 1;
        if (left <= 0) this.#running.delete(upstreamId);
        else this.#running.set(upstreamId, left);
      },
    };
  }

  hasRoom(upstreamId: string): boolean {
    return this.#limit === 0 || (this.#running.get(upstreamId) ?? 0) < this.#limit;
  }

  /** Fills running against `upstreamId` (for tests and metrics). */
  running(upstreamId: string): number {
    return this.#running.get(upstreamId) ?? 0;
  }
}
