import { MemoryFillLease } from '@vreg/fill-lease';
import { describe, expect, it } from 'vitest';
import { MeteredFillLease } from './metered-fill-lease.ts';
import { startTelemetry } from './start-telemetry.ts';

describe('MeteredFillLease', () => {
  it('counts a held lease as a fill in flight until released (once), and a refused one as contention', async () => {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    const leases = new MeteredFillLease(new MemoryFillLease(), telemetry.metrics);
    const lease = await leases.acquire('blob/sha256:x', 10_000, 'a');
    expect(await leases.acquire('blob/sha256:x', 10_000, 'b')).toBeUndefined();
    expect(await telemetry.renderMetrics()).toContain('vreg_fills_in_flight{kind="blob"} 1');
    await lease?.release();
    await lease?.release();
    const text = await telemetry.renderMetrics();
    expect(text).toContain('vreg_fills_in_flight{kind="blob"} 0');
    expect(text).toContain('vreg_lease_contention_total{kind="blob"} 1');
  });
});
