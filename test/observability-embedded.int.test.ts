import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Consumers, Streams, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { logTraceFields, startTelemetry, type Telemetry } from '@vreg/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type EmbeddedVreg, startEmbedded } from '../src/embedded.ts';
import { loadEmbeddedConfig } from '../src/embedded-config.ts';
import { AdminClient } from './support/admin-client.ts';
import { LOCAL_UPSTREAMS } from './support/embedded-under-test.ts';
import {
  blobRecorded,
  dashboardExpressions,
  loadDashboard,
  metricNamesIn,
  type ObservedScenario,
  parseMetrics,
  pullBlob,
  pullFromDeadUpstream,
  secretsIn,
  setUpPrivateScenario,
  sumOf,
} from './support/observability.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/**
 * Embedded mode in this process with an in-memory span exporter: the three
 * services share one tracer provider, each span attributable by what made it
 * (the gateway's HTTP server span, the fetcher's and the catalog's consumers
 * and responders on the in-process bus).
 */
describe('observability (embedded mode, in-memory spans)', () => {
  const env = testEnv();
  const exporter = new InMemorySpanExporter();
  const logLines: string[] = [];
  let telemetry: Telemetry;
  let vreg: EmbeddedVreg;
  let dataDir: string;
  let s: ObservedScenario;
  const pulls: Array<{ status: number; cache: string | null; bytes: number }> = [];
  let metricsText = '';
  let firstScrape = '';
  let deadUpstreamStatus = 0;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'vreg', config: {}, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    dataDir = await mkdtemp(join(tmpdir(), 'vreg-observability-'));
    const config = loadEmbeddedConfig({
      VREG_LISTEN: '127.0.0.1:0',
      VREG_DATA_DIR: dataDir,
      VREG_ADMIN_TOKEN: `admin-${randomBytes(16).toString('hex')}`,
      VREG_LOG_LEVEL: 'debug',
      ...LOCAL_UPSTREAMS,
    });
    const logger = createLogger({
      level: 'debug',
      name: 'vreg-observability',
      mixin: logTraceFields,
      destination: { write: (line: string) => void logLines.push(line) },
    });
    vreg = await startEmbedded(config, logger, { telemetry });
    // Before anything happened: what a Prometheus scrape of a new install sees.
    firstScrape = await (await fetch(`${vreg.url}/metrics`)).text();
    const admin = new AdminClient(vreg.url, vreg.adminToken);
    s = await setUpPrivateScenario(env, { gatewayUrl: vreg.url, admin });
    // 1 miss, then (once the fill is recorded) 2 hits.
    pulls.push(await pullBlob(vreg.url, s));
    await waitFor('the filled blob to be recorded', () => blobRecorded(admin, s), 20_000);
    pulls.push(await pullBlob(vreg.url, s));
    pulls.push(await pullBlob(vreg.url, s));
    // And an upstream that is down, so upstream errors have a series too.
    deadUpstreamStatus = await pullFromDeadUpstream(vreg.url, admin);
    metricsText = await (await fetch(`${vreg.url}/metrics`)).text();
  });

  afterAll(async () => {
    await vreg?.stop();
    await telemetry?.shutdown();
    await s?.upstream.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers the three pulls miss, hit, hit with the whole blob', () => {
    expect(pulls.map((p) => [p.status, p.cache, p.bytes])).toEqual([
      [200, 'miss', s.blob.size],
      [200, 'hit', s.blob.size],
      [200, 'hit', s.blob.size],
    ]);
  });

  it('counts exactly 1 miss and 2 hits, and the bytes served from upstream and from the cache', () => {
    const samples = parseMetrics(metricsText);
    expect(deadUpstreamStatus).toBeGreaterThanOrEqual(500);
    const registry = { registry: s.registryId };
    expect(sumOf(samples, 'vreg_cache_results_total', { ...registry, result: 'miss', kind: 'blob' })).toBe(1);
    expect(sumOf(samples, 'vreg_cache_results_total', { ...registry, result: 'hit', kind: 'blob' })).toBe(2);
    expect(sumOf(samples, 'vreg_cache_results_total')).toBe(3);
    expect(sumOf(samples, 'vreg_bytes_served_total', { ...registry, source: 'upstream' })).toBe(s.blob.size);
    expect(sumOf(samples, 'vreg_bytes_served_total', { ...registry, source: 'cache' })).toBe(2 * s.blob.size);
    const blobRoute = '/v2/virtual_registries/containers/:registryId/:name/blobs/:digest';
    expect(sumOf(samples, 'vreg_http_requests_total', { route: blobRoute, method: 'GET', status: '200' })).toBe(3);
    // One upstream download (plus the token round trips it needed), none for the hits.
    expect(sumOf(samples, 'vreg_upstream_request_duration_seconds_count', { kind: 'blob' })).toBe(1);
    expect(sumOf(samples, 'vreg_upstream_bytes_total')).toBe(s.blob.size);
    expect(sumOf(samples, 'vreg_upstream_errors_total', { upstream: new URL(s.upstream.url).host })).toBe(0);
    expect(sumOf(samples, 'vreg_upstream_errors_total', { upstream: '127.0.0.1:9', code: 'UPSTREAM_UNAVAILABLE' })).toBeGreaterThan(0);
    expect(sumOf(samples, 'vreg_fills_in_flight')).toBe(0);
    expect(
      samples.some(
        (x) => x.name === 'vreg_consumer_pending' && x.labels.stream === Streams.fetch.name && x.labels.consumer === Consumers.fetcher,
      ),
    ).toBe(true);
    expect(sumOf(samples, 'vreg_catalog_lookup_duration_seconds_count', { subject: Subjects.entryLookup })).toBeGreaterThan(0);
  });

  it("lists the dead upstream's failures in the overview (broadcast on the in-process bus, as in distributed mode)", async () => {
    type Overview = { upstream_errors: Array<{ upstream: string; count: number }> };
    const res = await new AdminClient(vreg.url, vreg.adminToken).call<Overview>('GET', '/stats/overview?window=1h');
    expect(res.status).toBe(200);
    expect(res.body.upstream_errors.find((e) => e.upstream === '127.0.0.1:9')?.count).toBeGreaterThanOrEqual(1);
  });

  it('labels metrics with bounded values only: no image, digest or reference', () => {
    for (const sample of parseMetrics(metricsText)) {
      for (const value of Object.values(sample.labels)) {
        expect(value, `${sample.name} ${JSON.stringify(sample.labels)}`).not.toMatch(/sha256:|busybox/);
      }
    }
  });

  it('makes the miss one trace: gateway request → fetch.requested → fetcher, upload → object.stored → catalog, lookups → catalog', async () => {
    const root = await waitFor('the miss request span', async () =>
      exporter.getFinishedSpans().find((x) => x.kind === SpanKind.SERVER && x.attributes['vreg.cache.result'] === 'miss'),
    );
    expect(root.attributes).toMatchObject({
      'vreg.registry.id': s.registryId,
      'vreg.image': 'library/busybox',
      'vreg.digest': s.blob.digest,
      'vreg.bytes': s.blob.size,
    });
    const traceId = root.spanContext().traceId;
    const inTrace = (): ReadableSpan[] => exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === traceId);
    const byName = (name: string, kind: SpanKind): ReadableSpan[] => inTrace().filter((x) => x.name === name && x.kind === kind);

    // The fetcher's consumer and the catalog's consumer and responder, all children of their publisher's span.
    const fetcher = await waitFor('the fetcher span', async () => byName(`process ${Subjects.fetchRequested}`, SpanKind.CONSUMER)[0]);
    const catalogStored = await waitFor(
      'the catalog object.stored span',
      async () => byName(`process ${Subjects.objectStored}`, SpanKind.CONSUMER)[0],
    );
    expect(fetcher.attributes['messaging.consumer.group.name']).toBe(Consumers.fetcher);
    expect(catalogStored.attributes['messaging.consumer.group.name']).toBe(Consumers.catalogObjects);
    const fetchPublish = byName(`send ${Subjects.fetchRequested}`, SpanKind.PRODUCER);
    const storedPublish = byName(`send ${Subjects.objectStored}`, SpanKind.PRODUCER);
    expect(fetchPublish).toHaveLength(1);
    expect(fetcher.parentSpanContext?.spanId).toBe(fetchPublish[0]?.spanContext().spanId);
    expect(storedPublish.map((p) => p.spanContext().spanId)).toContain(catalogStored.parentSpanContext?.spanId);
    const lookups = byName(`process ${Subjects.entryLookup}`, SpanKind.SERVER);
    const lookupRequests = new Set(byName(`request ${Subjects.entryLookup}`, SpanKind.CLIENT).map((x) => x.spanContext().spanId));
    expect(lookups.length).toBeGreaterThan(0);
    for (const l of lookups) expect(lookupRequests.has(l.parentSpanContext?.spanId ?? '')).toBe(true);
    // The upstream download is under the request too.
    expect(byName('upstream GET blob', SpanKind.INTERNAL)[0]?.attributes).toMatchObject({
      'vreg.digest': s.blob.digest,
      'vreg.bytes': s.blob.size,
    });

    // Every span of the trace hangs off another span of it, up to one root:
    // the test's own fetch (undici is instrumented in this process too) or the request itself.
    const spans = inTrace();
    const ids = new Set(spans.map((x) => x.spanContext().spanId));
    const roots = spans.filter((x) => x.parentSpanContext === undefined);
    expect(roots).toHaveLength(1);
    expect([root.spanContext().spanId, root.parentSpanContext?.spanId]).toContain(roots[0]?.spanContext().spanId);
    for (const x of spans)
      if (x !== roots[0]) expect(ids.has(x.parentSpanContext?.spanId ?? ''), `${x.name}'s parent is in the trace`).toBe(true);
  });

  it('logs one line per request with its trace and span ids, cache result, bytes and duration', () => {
    const lines = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request completed' && l.method === 'GET' && String(l.url).includes('/blobs/'));
    expect(lines.map((l) => [l.status, l.cache, l.bytes])).toEqual([
      [200, 'miss', s.blob.size],
      [200, 'hit', s.blob.size],
      [200, 'hit', s.blob.size],
    ]);
    for (const l of lines) {
      expect(l.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof l.durationMs).toBe('number');
    }
    // Fastify's own request logs are replaced by that line.
    expect(logLines.some((l) => l.includes('"incoming request"'))).toBe(false);
  });

  it('answers /healthz and /readyz, and /readyz fails fast once stopping', async () => {
    expect((await fetch(`${vreg.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${vreg.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: { ok: true }, catalog: { ok: true } } });
    vreg.readiness.markStopping();
    const stopping = await fetch(`${vreg.url}/readyz`);
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toMatchObject({ status: 'stopping' });
  });

  it("exports the dashboards' series at 0 from the first scrape, before any pull", () => {
    const first = parseMetrics(firstScrape);
    const zero = (name: string, labels: Record<string, string>) => {
      const series = first.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      expect(series.length, `${name} ${JSON.stringify(labels)} has a series`).toBeGreaterThan(0);
      expect(sumOf(series, name), `${name} ${JSON.stringify(labels)} reads 0`).toBe(0);
    };
    for (const result of ['hit', 'miss', 'stale', 'coalesced'])
      for (const kind of ['manifest', 'blob']) zero('vreg_cache_results_total', { result, kind });
    for (const source of ['cache', 'upstream']) zero('vreg_bytes_served_total', { source });
    for (const kind of ['manifest', 'blob']) {
      zero('vreg_fills_in_flight', { kind });
      zero('vreg_lease_contention_total', { kind });
    }
    zero('vreg_coalesced_waiters', {});
    zero('vreg_consumer_redeliveries_total', { stream: Streams.fetch.name, consumer: Consumers.fetcher });
    zero('vreg_dead_letters_total', { stream: Streams.objects.name, consumer: Consumers.catalogObjects });
    zero('vreg_consumer_pending', { stream: Streams.fetch.name, consumer: Consumers.fetcher });
    // Every metric a dashboard panel queries is there, but those whose labels name what has not happened yet
    // (a route and status answered, an upstream asked): no value of theirs is known before the first request.
    const needsAnEvent = new Set([
      'vreg_http_requests_total',
      'vreg_upstream_request_duration_seconds_bucket',
      'vreg_upstream_errors_total',
    ]);
    const present = new Set(first.map((x) => x.name));
    for (const { panel, expr } of dashboardExpressions(DashboardSchema.parse(loadDashboard()))) {
      for (const name of metricNamesIn(expr).filter((n) => !needsAnEvent.has(n))) expect(present.has(name), `${panel}: ${name}`).toBe(true);
    }
  });

  it('ships a dashboard that loads and queries only metrics vreg exports', () => {
    const dashboard = DashboardSchema.parse(loadDashboard());
    const exported = new Set(parseMetrics(metricsText).map((x) => x.name));
    const queries = dashboardExpressions(dashboard);
    expect(queries.length).toBeGreaterThan(5);
    for (const { panel, expr } of queries) {
      const names = metricNamesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${panel}: ${name} is exported`).toBe(true);
    }
    const ids = dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((q) => q.id)]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('puts no secret in any span, metric or log line of the run', () => {
    const spans = JSON.stringify(
      exporter.getFinishedSpans().map((x) => ({ name: x.name, attributes: x.attributes, events: x.events, status: x.status })),
    );
    expect(secretsIn(spans, s.secrets), 'spans').toEqual([]);
    expect(secretsIn(metricsText, s.secrets), 'metrics').toEqual([]);
    expect(secretsIn(logLines.join(''), s.secrets), 'logs').toEqual([]);
    expect(logLines.length).toBeGreaterThan(10);
  });
});

const TargetSchema = z.object({
  refId: z.string().min(1),
  expr: z.string().min(1),
  datasource: z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') }),
});
const GridPosSchema = z
  .object({ x: z.number().int().min(0), y: z.number().int().min(0), w: z.number().int().min(1).max(24), h: z.number().int().min(1) })
  .refine((g) => g.x + g.w <= 24, 'panel wider than the grid');
const PanelSchema = z.object({
  id: z.number().int(),
  type: z.enum(['row', 'stat', 'timeseries', 'gauge', 'bargauge', 'table', 'text', 'heatmap']),
  title: z.string().min(1),
  gridPos: GridPosSchema,
  targets: z.array(TargetSchema).optional(),
  panels: z.array(z.object({ id: z.number().int() }).passthrough()).optional(),
});
/** What Grafana needs to provision the dashboard: identity, schema version, a datasource variable and well-formed panels. */
const DashboardSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(30),
  templating: z
    .object({ list: z.array(z.object({ name: z.string(), type: z.string() })) })
    .refine((t) => t.list.some((v) => v.name === 'datasource' && v.type === 'datasource'), 'a datasource variable'),
  panels: z.array(PanelSchema).min(1),
});
