import { Consumers, Subjects } from '@vreg/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startDistributedUnderTest } from './support/distributed-under-test.ts';
import {
  blobRecorded,
  dashboardExpressions,
  loadDashboard,
  metricNamesIn,
  type ObservedScenario,
  OtlpJsonReceiver,
  parseMetrics,
  pullBlob,
  pullFromDeadUpstream,
  type ReceivedSpan,
  secretsIn,
  setUpPrivateScenario,
  sumOf,
} from './support/observability.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/** OTLP span kinds (the protobuf enum, as OTLP/JSON writes it). */
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

/**
 * The three services as separate processes on NATS, FerretDB and moto,
 * exporting spans over OTLP/HTTP JSON to a stand-in collector: the trace
 * context crosses processes only through the NATS message headers.
 */
describe('observability (distributed mode, OTLP export)', () => {
  const env = testEnv();
  const receiver = new OtlpJsonReceiver();
  let vreg: VregUnderTest & { services: ServiceProcess[] };
  let s: ObservedScenario;
  const pulls: Array<{ status: number; cache: string | null; bytes: number }> = [];
  const metricsOf: Record<string, string> = {};

  beforeAll(async () => {
    await receiver.start();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      VREG_LOG_LEVEL: 'info',
    };
    vreg = await startDistributedUnderTest({ gateway: otel, fetcher: otel, catalog: otel });
    s = await setUpPrivateScenario(env, vreg);
    pulls.push(await pullBlob(vreg.gatewayUrl, s));
    await waitFor('the filled blob to be recorded', () => blobRecorded(vreg.admin, s), 30_000);
    pulls.push(await pullBlob(vreg.gatewayUrl, s));
    pulls.push(await pullBlob(vreg.gatewayUrl, s));
    await pullFromDeadUpstream(vreg.gatewayUrl, vreg.admin);
    for (const service of vreg.services) metricsOf[service.name] = await (await fetch(`${service.url}/metrics`)).text();
  });

  afterAll(async () => {
    await vreg?.stop();
    await s?.upstream.destroy();
    await receiver.stop();
  });

  it('answers the three pulls miss, hit, hit', () => {
    expect(pulls.map((p) => [p.status, p.cache, p.bytes])).toEqual([
      [200, 'miss', s.blob.size],
      [200, 'hit', s.blob.size],
      [200, 'hit', s.blob.size],
    ]);
  });

  it('makes the miss one trace across the gateway, fetcher and catalog processes, each span under its parent', async () => {
    const root = await waitFor('the gateway request span', async () =>
      receiver.spans.find((x) => x.service === 'vreg-gateway' && x.kind === KIND.server && x.attributes['vreg.cache.result'] === 'miss'),
    );
    expect(root.parentSpanId).toBe('');
    expect(root.attributes).toMatchObject({ 'vreg.registry.id': s.registryId, 'vreg.digest': s.blob.digest });
    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((x) => x.traceId === root.traceId);
    const one = (service: string, name: string, kind: number) => async () =>
      inTrace().find((x) => x.service === service && x.name === name && x.kind === kind);

    const fetcher = await waitFor('the fetcher span', one('vreg-fetcher', `process ${Subjects.fetchRequested}`, KIND.consumer), 30_000);
    const catalog = await waitFor('the catalog span', one('vreg-catalog', `process ${Subjects.objectStored}`, KIND.consumer), 30_000);
    const lookup = await waitFor('a catalog lookup span', one('vreg-catalog', `process ${Subjects.entryLookup}`, KIND.server), 30_000);
    expect(fetcher.attributes['messaging.consumer.group.name']).toBe(Consumers.fetcher);

    const spanById = (id: string): ReceivedSpan | undefined => inTrace().find((x) => x.spanId === id);
    // Each cross-process hop: the consumer's parent is the publisher's span in the other process.
    expect(spanById(fetcher.parentSpanId)).toMatchObject({
      service: 'vreg-gateway',
      name: `send ${Subjects.fetchRequested}`,
      kind: KIND.producer,
    });
    expect(spanById(catalog.parentSpanId)).toMatchObject({ name: `send ${Subjects.objectStored}`, kind: KIND.producer });
    expect(spanById(lookup.parentSpanId)).toMatchObject({ name: `request ${Subjects.entryLookup}`, kind: KIND.client });
    // The upload to S3 and the catalog's upsert in MongoDB are in the trace too.
    await waitFor(
      'a MongoDB span of the catalog',
      async () => inTrace().find((x) => x.service === 'vreg-catalog' && x.attributes['db.system.name'] === 'mongodb'),
      30_000,
    );
    await waitFor(
      'an S3 span of the gateway',
      async () => inTrace().find((x) => x.service === 'vreg-gateway' && x.attributes['rpc.system'] === 'aws-api'),
      30_000,
    );

    // Parent links resolve inside the trace, walking up to the gateway request.
    for (const start of [fetcher, catalog, lookup]) {
      let current: ReceivedSpan | undefined = start;
      const seen = new Set<string>();
      while (current && current.parentSpanId !== '' && !seen.has(current.spanId)) {
        seen.add(current.spanId);
        current = spanById(current.parentSpanId);
      }
      expect(current?.spanId, `${start.service} ${start.name} leads up to the request`).toBe(root.spanId);
    }
  });

  it('serves /metrics on every service, the gateway counting 1 miss, 2 hits and their bytes', () => {
    const gateway = parseMetrics(metricsOf.gateway ?? '');
    expect(sumOf(gateway, 'vreg_cache_results_total', { registry: s.registryId, result: 'miss' })).toBe(1);
    expect(sumOf(gateway, 'vreg_cache_results_total', { registry: s.registryId, result: 'hit' })).toBe(2);
    expect(sumOf(gateway, 'vreg_bytes_served_total', { registry: s.registryId, source: 'upstream' })).toBe(s.blob.size);
    expect(sumOf(gateway, 'vreg_bytes_served_total', { registry: s.registryId, source: 'cache' })).toBe(2 * s.blob.size);
    const fetcher = parseMetrics(metricsOf.fetcher ?? '');
    expect(fetcher.some((x) => x.name === 'vreg_consumer_pending' && x.labels.consumer === Consumers.fetcher)).toBe(true);
    const catalog = parseMetrics(metricsOf.catalog ?? '');
    expect(catalog.some((x) => x.name === 'vreg_consumer_pending' && x.labels.consumer === Consumers.catalogObjects)).toBe(true);
    expect(sumOf(catalog, 'vreg_http_requests_total', { route: '/api/v1/registries', method: 'POST' })).toBeGreaterThan(0);
    for (const text of Object.values(metricsOf)) expect(text).toMatch(/^target_info\{service_name="vreg-(gateway|fetcher|catalog)"/m);
  });

  it('queries in the dashboard only metrics the services export', () => {
    const exported = new Set(Object.values(metricsOf).flatMap((text) => parseMetrics(text).map((x) => x.name)));
    for (const { panel, expr } of dashboardExpressions(loadDashboard())) {
      for (const name of metricNamesIn(expr)) expect(exported.has(name), `${panel}: ${name}`).toBe(true);
    }
  });

  it("lists the dead upstream's failures in the catalog's overview (broadcast by the gateway over NATS)", async () => {
    type Overview = { upstream_errors: Array<{ upstream: string; upstream_id: string | null; count: number; last_message: string }> };
    const dead = await waitFor(
      'the dead upstream in the overview',
      async () => {
        const res = await vreg.admin.call<Overview>('GET', '/stats/overview?window=1h');
        expect(res.status).toBe(200);
        return res.body.upstream_errors.find((e) => e.upstream === '127.0.0.1:9');
      },
      15_000,
    );
    expect(dead.count).toBeGreaterThanOrEqual(1);
    expect(dead.upstream_id).not.toBeNull();
    expect(dead.last_message).not.toBe('');
  });

  it('answers /healthz and /readyz on every service', async () => {
    for (const service of vreg.services) {
      expect((await fetch(`${service.url}/healthz`)).status, service.name).toBe(200);
      const ready = await fetch(`${service.url}/readyz`);
      const report = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect([ready.status, report.status], `${service.name}: ${JSON.stringify(report)}`).toEqual([200, 'ready']);
      expect(Object.values(report.checks).every((c) => c.ok)).toBe(true);
    }
  });

  it('puts no secret in any exported span, metric or log line of the three processes', async () => {
    await new Promise((r) => setTimeout(r, 500)); // the last batch of spans
    expect(receiver.spans.length).toBeGreaterThan(20);
    expect(secretsIn(JSON.stringify(receiver.spans.map((x) => x.raw)), s.secrets), 'spans').toEqual([]);
    expect(secretsIn(Object.values(metricsOf).join('\n'), s.secrets), 'metrics').toEqual([]);
    for (const service of vreg.services) {
      const output = service.fullOutput();
      expect(output).toMatch(/"msg":"request completed"|fetcher started/);
      expect(secretsIn(output, s.secrets), `${service.name} logs`).toEqual([]);
    }
  });
});
