import { ErrorCodes, hasCode } from '@vreg/contracts';
import { type BusMetrics, traceRequest } from '@vreg/telemetry';

/**
 * A request/reply as every adapter sends it: inside a request span whose
 * context rides in the headers, timed into the lookup-latency metric with
 * its outcome (ok, unavailable, error).
 */
export async function timedRequest<T>(
  metrics: BusMetrics,
  subject: string,
  headers: Record<string, string> | undefined,
  send: (traced: Record<string, string> | undefined) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    const answer = await traceRequest(subject, headers, send);
    metrics.lookupTimed(subject, (performance.now() - started) / 1000, 'ok');
    return answer;
  } catch (err) {
    metrics.lookupTimed(
      subject,
      (performance.now() - started) / 1000,
      hasCode(err, ErrorCodes.catalogUnavailable) ? 'unavailable' : 'error',
    );
    throw err;
  }
}
