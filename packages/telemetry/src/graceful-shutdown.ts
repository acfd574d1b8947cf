import type { Logger } from '@vreg/logging';
import closeWithGrace from 'close-with-grace';
import type { Readiness } from './readiness.ts';

/** One thing a stopping process closes, in the order given. */
export interface ShutdownStep {
  /** Short name in the log line when the step fails: `server`, `app`, `bus`. */
  readonly name: string;
  /** Closes it; a rejection is logged and the next step still runs. */
  readonly close: () => unknown;
}

export interface GracefulShutdownOptions {
  readonly logger: Logger;
  /** `/readyz` answers `stopping` from the first moment, so load balancers drop the process before its server closes. */
  readonly readiness?: Readiness;
  /**
   * Milliseconds the steps may take in all before the process exits anyway
   * with code 1 (default 30 000). 0: no deadline of our own, for a process
   * whose in-flight pulls may take minutes; the orchestrator's kill after its
   * grace period bounds the stop (Kubernetes' terminationGracePeriodSeconds).
   */
  readonly timeoutMs?: number;
  /** Closed in order: the listener first (no new work), telemetry last (it flushes what the others recorded). */
  readonly steps: readonly ShutdownStep[];
}

/**
 * Thirty seconds: Kubernetes' default terminationGracePeriodSeconds, so a
 * pod that hangs is killed by us, with a log line, rather than by the kubelet.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * Signals and events that start a graceful stop. close-with-grace also
 * listens to the synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL),
 * SIGTRAP, SIGABRT, SIGQUIT and SIGUSR2: after the first four, Node's docs
 * say running JavaScript is unsafe, and the others have meanings of their
 * own (core dump, debugger, nodemon's restart), so those keep Node's default.
 */
const SKIPPED = ['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGUSR2'] as const;

/**
 * Runs each step in order; a failing step is logged and the rest still run,
 * so one stuck dependency never leaves the others open.
 *
 * @returns true when every step succeeded.
 */
export async function closeInOrder(logger: Logger, steps: readonly ShutdownStep[]): Promise<boolean> {
  let ok = true;
  for (const step of steps) {
    try {
      await step.close();
    } catch (err) {
      logger.error({ err, step: step.name }, 'stop step failed');
      ok = false;
    }
  }
  return ok;
}

/**
 * The one stop sequence of every vreg process (gateway, fetcher, catalog,
 * embedded). On SIGTERM, SIGINT or SIGHUP, an uncaught exception or an
 * unhandled rejection: mark `/readyz` stopping, close the steps in order,
 * exit 0 when all closed (1 after an error, a failed step or the timeout).
 * A second signal while stopping exits at once with 1, as an operator
 * pressing Ctrl+C twice expects.
 *
 * close-with-grace (fastify's) owns the signals, the timeout and the second
 * signal; this adds the order, the per-step error handling and readiness.
 *
 * @returns `close()`, which starts the same stop by hand.
 */
export function closeOnSignals(options: GracefulShutdownOptions): { close(): void } {
  const { logger, readiness, steps } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const handle = closeWithGrace(
    {
      delay: timeoutMs > 0 ? timeoutMs : false,
      skip: [...SKIPPED],
      logger: { error: (err: unknown) => logger.error({ err }, 'stop failed') },
      onTimeout: () => logger.error({ timeoutMs }, 'stop timed out'),
      onSecondSignal: (signal) => logger.error({ signal }, 'second signal while stopping: exiting now'),
      onSecondError: (err) => logger.error({ err }, 'error while stopping: exiting now'),
    },
    async ({ signal, err, manual }) => {
      if (err) logger.error({ err }, 'stopping after an uncaught error');
      else logger.info({ signal: signal ?? (manual ? 'manual' : 'exit') }, 'stopping');
      readiness?.markStopping();
      const ok = await closeInOrder(logger, steps);
      logger.info({ ok }, 'stopped');
      if (!ok) throw new Error('a stop step failed (logged above)');
    },
  );
  return { close: () => handle.close() };
}
