import { AppError } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';

/** One dependency `/readyz` checks. */
export interface ReadinessCheck {
  /** Short name in the report: `nats`, `store`, `catalog`. */
  name: string;
  /**
   * A failing critical check makes the process unready (503). A
   * non-critical one is reported (`degraded`) but keeps it ready: the
   * gateway serves hits from its own cache while NATS or the catalog is down.
   */
  critical: boolean;
  /** Resolves when the dependency answered; rejects (or times out) otherwise. */
  check(signal: AbortSignal): Promise<unknown>;
}

export interface ReadinessReport {
  /** `ready`, `degraded` (a non-critical check failed), `unready` or `stopping`. */
  status: 'ready' | 'degraded' | 'unready' | 'stopping';
  /**
   * Per check: `error` is the failure's code (or its message when it has none);
   * `message` the message of one of vreg's own errors (written to name what is
   * wrong, never a secret), e.g. which bucket does not exist.
   */
  checks: Record<string, { ok: boolean; critical: boolean; ms: number; error?: string; message?: string }>;
}

/** Milliseconds each check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * `/readyz`: runs every check at once, each with a deadline, and says
 * whether this process should get traffic. After `markStopping()` (the
 * first thing a SIGTERM does) it answers `stopping` at once, so load
 * balancers drop the process before it closes its server.
 */
export class Readiness {
  readonly #checks: readonly ReadinessCheck[];
  #stopping = false;

  constructor(checks: readonly ReadinessCheck[]) {
    this.#checks = checks;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  markStopping(): void {
    this.#stopping = true;
  }

  /**
   * Checks once and logs the outcome: at start-up, so a process that cannot
   * serve says why in its log (a missing bucket, NATS unreachable) rather
   * than only through /readyz.
   */
  async logReport(logger: Pick<Logger, 'info' | 'warn' | 'error'>): Promise<void> {
    const report = await this.report();
    const failing = Object.fromEntries(Object.entries(report.checks).filter(([, c]) => !c.ok));
    if (report.status === 'unready') logger.error({ status: report.status, failing }, 'not ready: /readyz answers 503 until these pass');
    else if (report.status === 'degraded') logger.warn({ status: report.status, failing }, 'ready, degraded');
    else logger.info({ status: report.status }, 'ready');
  }

  async report(): Promise<ReadinessReport> {
    if (this.#stopping) return { status: 'stopping', checks: {} };
    const results = await Promise.all(this.#checks.map(async (c) => [c, await runCheck(c)] as const));
    const checks: ReadinessReport['checks'] = {};
    let status: ReadinessReport['status'] = 'ready';
    for (const [c, r] of results) {
      checks[c.name] = { ...r, critical: c.critical };
      if (!r.ok) status = c.critical ? 'unready' : status === 'ready' ? 'degraded' : status;
    }
    return { status: this.#stopping ? 'stopping' : status, checks };
  }
}

/** HTTP status of a report: 200 when traffic is welcome (ready or degraded), else 503. */
export function readinessStatusCode(report: ReadinessReport): 200 | 503 {
  return report.status === 'ready' || report.status === 'degraded' ? 200 : 503;
}

async function runCheck(c: ReadinessCheck): Promise<{ ok: boolean; ms: number; error?: string; message?: string }> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([c.check(controller.signal), deadline]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    // The code, and the message of our own errors only: never a stack or a connection string.
    const code = (err as { code?: unknown }).code;
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: typeof code === 'string' ? code : err instanceof Error ? err.message : String(err),
      ...(err instanceof AppError ? { message: err.message } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}
