import { describe, expect, it } from 'vitest';
import { mergeExpositions } from './merge-expositions.ts';

const worker = (requests: number, inFlight: number, slot: string, remaining: number) =>
  [
    '# HELP target_info Target metadata',
    '# TYPE target_info gauge',
    'target_info{service_name="vreg"} 1',
    '# HELP vreg_http_requests_total HTTP requests answered',
    '# TYPE vreg_http_requests_total counter',
    `vreg_http_requests_total{route="/v2/",method="GET",status="200"} ${requests}`,
    '# TYPE vreg_http_request_duration_seconds histogram',
    `vreg_http_request_duration_seconds_bucket{route="/v2/",le="0.005"} ${requests}`,
    `vreg_http_request_duration_seconds_bucket{route="/v2/",le="+Inf"} ${requests}`,
    `vreg_http_request_duration_seconds_sum{route="/v2/"} 0.5`,
    `vreg_http_request_duration_seconds_count{route="/v2/"} ${requests}`,
    '# TYPE vreg_fills_in_flight gauge',
    `vreg_fills_in_flight{kind="blob"} ${inFlight}`,
    '# TYPE vreg_upstream_ratelimit_remaining gauge',
    `vreg_upstream_ratelimit_remaining{upstream="docker.io"} ${remaining}`,
    '# TYPE vreg_event_loop_delay_seconds gauge',
    `vreg_event_loop_delay_seconds{worker="${slot}",stat="max"} 0.01`,
    '',
  ].join('\n');

describe('mergeExpositions', () => {
  it('adds counters, histograms and in-flight gauges, keeps per-worker series apart and target_info once', () => {
    const merged = mergeExpositions([worker(3, 1, '1', 90), worker(4, 2, '2', 80)]);
    expect(merged).toContain('vreg_http_requests_total{route="/v2/",method="GET",status="200"} 7');
    expect(merged).toContain('vreg_http_request_duration_seconds_bucket{route="/v2/",le="+Inf"} 7');
    expect(merged).toContain('vreg_http_request_duration_seconds_sum{route="/v2/"} 1');
    expect(merged).toContain('vreg_fills_in_flight{kind="blob"} 3');
    expect(merged).toContain('vreg_upstream_ratelimit_remaining{upstream="docker.io"} 80');
    expect(merged).toContain('target_info{service_name="vreg"} 1');
    expect(merged).toContain('vreg_event_loop_delay_seconds{worker="1",stat="max"} 0.01');
    expect(merged).toContain('vreg_event_loop_delay_seconds{worker="2",stat="max"} 0.01');
    expect(merged.match(/# TYPE vreg_http_requests_total counter/g)).toHaveLength(1);
  });

  it('keeps series only one process has', () => {
    const merged = mergeExpositions([worker(1, 0, '1', 5), '# TYPE vreg_consumer_pending gauge\nvreg_consumer_pending{stream="a"} 4\n']);
    expect(merged).toContain('vreg_consumer_pending{stream="a"} 4');
    expect(merged).toContain('vreg_http_requests_total{route="/v2/",method="GET",status="200"} 1');
  });
});
