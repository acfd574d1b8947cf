import { Subjects, UPSTREAM_FAILURE_MESSAGE_MAX, type UpstreamFailed } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { VregMetrics } from './vreg-metrics.ts';

/** Milliseconds between two broadcasts about one upstream: an outage must not flood the bus. */
const MIN_INTERVAL_MS = 1_000;
/** Characters of an upstream label sent (the contract's bound). */
const UPSTREAM_MAX = 255;
const CODE_MAX = 64;

/** What the broadcaster needs of the bus (an `EventBus` will do). */
export interface Broadcaster {
  broadcast(subject: string, payload: unknown): Promise<void>;
}

interface PerUpstream {
  lastSentAt: number;
  /** Failures since the last broadcast, not yet sent. */
  pending: number;
  code: string;
  message: string;
  timer?: NodeJS.Timeout;
}

/**
 * Tells the catalog, over `Subjects.upstreamFailed`, of the upstream failures
 * this process's metrics report, so the console's overview lists them in
 * either mode. The first failure of an upstream goes out at once; more within
 * the next second are summed into one trailing broadcast carrying their count
 * and the last error. Best effort: a failed broadcast is logged and forgotten.
 */
export class UpstreamFailureBroadcaster {
  readonly #bus: Broadcaster;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #upstreams = new Map<string, PerUpstream>();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: { bus: Broadcaster; logger: Logger; now?: () => number }) {
    this.#bus = deps.bus;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
  }

  /** Listens to `metrics`' upstream failures until `stop()`. */
  start(metrics: VregMetrics): void {
    this.#unsubscribe ??= metrics.onUpstreamFailed((upstream, code, message) => this.failed(upstream, code, message));
  }

  /** One failed upstream request (the metrics listener calls this). */
  failed(upstream: string, code: string, message: string): void {
    const now = this.#now();
    let seen = this.#upstreams.get(upstream);
    if (seen === undefined) {
      seen = { lastSentAt: -Infinity, pending: 0, code, message };
      this.#upstreams.set(upstream, seen);
    }
    seen.pending += 1;
    seen.code = code;
    seen.message = message;
    if (now - seen.lastSentAt >= MIN_INTERVAL_MS) {
      this.#send(upstream, seen);
      return;
    }
    if (seen.timer === undefined) {
      const entry = seen;
      entry.timer = setTimeout(() => this.#send(upstream, entry), entry.lastSentAt + MIN_INTERVAL_MS - now);
      entry.timer.unref();
    }
  }

  /** Stops listening and sends what is still held back, so a stopping process's last failures are not lost. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const [upstream, seen] of this.#upstreams) this.#send(upstream, seen);
    this.#upstreams.clear();
  }

  #send(upstream: string, seen: PerUpstream): void {
    if (seen.timer !== undefined) clearTimeout(seen.timer);
    seen.timer = undefined;
    if (seen.pending === 0) return;
    const message: UpstreamFailed = {
      upstream: upstream.slice(0, UPSTREAM_MAX),
      code: seen.code.slice(0, CODE_MAX) || 'UNKNOWN',
      message: redactUrls(seen.message).slice(0, UPSTREAM_FAILURE_MESSAGE_MAX),
      count: Math.min(seen.pending, 1_000_000),
    };
    seen.pending = 0;
    seen.lastSentAt = this.#now();
    this.#bus.broadcast(Subjects.upstreamFailed, message).catch((err: unknown) => {
      this.#logger.warn({ err, upstream: message.upstream }, 'upstream failure broadcast not sent');
    });
  }
}

/**
 * Error texts should already be secret-free; this is the second line: URL
 * user-info (`user:pass@`) and query strings (presigned signatures) are cut.
 */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1').replace(/([a-z][a-z0-9+.-]*:\/\/[^\s?#]*)[?#][^\s]*/gi, '$1');
}
