import { Readable } from 'node:stream';
import type { UpstreamRegistry, UpstreamResponse } from '@vreg/upstream-client';
import { describe, expect, it } from 'vitest';
import { InstrumentedUpstreamRegistry, parseRateLimitRemaining, upstreamLabel } from './instrumented-upstream-registry.ts';
import { startTelemetry } from './start-telemetry.ts';

const target = { url: 'https://user:pw@registry.example:5000/prefix/', username: 'user', password: 's3cret-password' };

describe('InstrumentedUpstreamRegistry', () => {
  it('labels an upstream by host and path, never by its credentials', () => {
    expect(upstreamLabel(target.url)).toBe('registry.example:5000/prefix');
    expect(upstreamLabel('https://registry-1.docker.io')).toBe('registry-1.docker.io');
  });

  it('reads Docker Hub ratelimit-remaining', () => {
    expect(parseRateLimitRemaining('76;w=21600')).toBe(76);
    expect(parseRateLimitRemaining(undefined)).toBeUndefined();
    expect(parseRateLimitRemaining('x')).toBeUndefined();
  });

  it('measures answers, bytes, rate-limit headroom and errors by code', async () => {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    const inner = {
      getBlob: async (): Promise<UpstreamResponse> => ({
        status: 200,
        headers: { 'ratelimit-remaining': '42;w=21600' },
        body: Readable.from([Buffer.alloc(10), Buffer.alloc(5)]),
      }),
      getManifest: async () => Promise.reject(Object.assign(new Error('upstream answered 503'), { code: 'UPSTREAM_UNAVAILABLE' })),
    } as unknown as UpstreamRegistry;
    const upstreams = new InstrumentedUpstreamRegistry(inner, telemetry.metrics);
    const res = await upstreams.getBlob(target, 'library/alpine', 'sha256:abc');
    let bytes = 0;
    for await (const chunk of res?.body ?? []) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(15);
    await expect(upstreams.getManifest(target, 'library/alpine', 'latest')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const text = await telemetry.renderMetrics();
    expect(text).toContain('vreg_upstream_bytes_total{upstream="registry.example:5000/prefix"} 15');
    expect(text).toContain('vreg_upstream_ratelimit_remaining{upstream="registry.example:5000/prefix"} 42');
    expect(text).toContain('vreg_upstream_errors_total{upstream="registry.example:5000/prefix",code="UPSTREAM_UNAVAILABLE"} 1');
    expect(text).toContain('vreg_upstream_request_duration_seconds_count{upstream="registry.example:5000/prefix",kind="blob"} 1');
    expect(text).not.toMatch(/s3cret|user:pw/);
  });
});
