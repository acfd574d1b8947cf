import { performance } from 'node:perf_hooks';
import { percentile } from './stats.ts';

export interface OpenLoopResult {
  /** Requests scheduled (rate × duration). */
  scheduled: number;
  completed: number;
  errors: number;
  /** Completed requests per second, over the whole run. */
  achievedRate: number;
  /** Latency from the scheduled send time to the end of the response body, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstError?: string;
}

/**
 * An open-loop load generator: requests are scheduled at fixed intervals
 * (`rate` per second for `durationMs`) whatever the responses do, and each
 * latency is measured from when the request was *due*, so a stalled server
 * or a late timer shows up in the percentiles instead of slowing the load
 * down (no coordinated omission). Stops by itself: requests still running
 * `graceMs` after the last send count as errors.
 */
export async function openLoop(send: () => Promise<unknown>, rate: number, durationMs: number, graceMs = 5_000): Promise<OpenLoopResult> {
  const interval = 1000 / rate;
  const scheduled = Math.floor((rate * durationMs) / 1000);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < scheduled; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    // setTimeout granularity is ~1 ms: sleep only when the next send is well ahead, else send now (and late ones in a burst).
    if (wait > 1.5) await new Promise((r) => setTimeout(r, wait - 1));
    while (performance.now() < due) await new Promise((r) => setImmediate(r));
    const p: Promise<void> = send().then(
      () => void latencies.push(performance.now() - due),
      (err: Error) => {
        errors += 1;
        firstError ??= err.message;
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  const lastSend = performance.now();
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, graceMs))]);
  errors += inFlight.size;
  const elapsed = Math.max(performance.now(), lastSend) - start;
  return {
    scheduled,
    completed: latencies.length,
    errors,
    achievedRate: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    ...(firstError ? { firstError } : {}),
  };
}
