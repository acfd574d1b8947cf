import { describe, expect, it } from 'vitest';
import { startTelemetry } from './start-telemetry.ts';

/** The stat's value in a Prometheus text exposition. */
function stat(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`vreg_event_loop_delay_seconds{stat="${name}"}`));
  return Number(line?.split(' ').at(-1));
}

describe('EventLoopDelay', () => {
  it('reports a blocked event loop as vreg_event_loop_delay_seconds max, then starts a new window', async () => {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // Synchronous work: nothing else runs on this loop for 300 ms.
      }
      await new Promise((r) => setTimeout(r, 50));
      const first = await telemetry.renderMetrics();
      expect(stat(first, 'max')).toBeGreaterThanOrEqual(0.25);
      expect(stat(first, 'p50')).toBeLessThanOrEqual(stat(first, 'max'));
      await new Promise((r) => setTimeout(r, 50));
      // The stall was in the previous window; this one only saw timers firing (late by whatever the machine adds).
      expect(stat(await telemetry.renderMetrics(), 'max')).toBeLessThan(stat(first, 'max'));
    } finally {
      await telemetry.shutdown();
    }
  });
});
