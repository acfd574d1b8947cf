import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { AdminClient } from './admin-client.ts';
import { basic, registryToken } from './auth-clients.ts';
import { copyImage, startTestRegistry, type TestRegistry } from './auth-registry.ts';
import { hostOf } from './skopeo.ts';
import type { TestEnv } from './test-env.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The dashboard the Helm chart ships and compose provisions (the same file). */
export const DASHBOARD_PATH = resolve(ROOT, 'deploy/k8s/vreg/dashboards/vreg.json');

export const IMAGE = { name: 'library/busybox', tag: 'latest' } as const;

/** A layer of `image` as the upstream has it: what the tests pull as a blob. */
export async function firstLayer(upstreamUrl: string, image: { name: string; tag: string }): Promise<{ digest: string; size: number }> {
  const accept = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
  ].join(', ');
  const get = async (
    reference: string,
  ): Promise<{ layers?: Array<{ digest: string; size: number }>; manifests?: Array<{ digest: string }> }> => {
    const res = await fetch(`${upstreamUrl}/v2/${image.name}/manifests/${reference}`, { headers: { accept } });
    if (!res.ok) throw new Error(`manifest ${image.name}:${reference}: ${res.status}`);
    return (await res.json()) as { layers?: Array<{ digest: string; size: number }>; manifests?: Array<{ digest: string }> };
  };
  let manifest = await get(image.tag);
  if (manifest.manifests?.[0]) manifest = await get(manifest.manifests[0].digest);
  const layer = manifest.layers?.[0];
  if (!layer) throw new Error(`${image.name}:${image.tag} has no layer`);
  return { digest: layer.digest, size: layer.size };
}

/** Everything secret a scenario handles: none of it may show up in spans, metrics or logs. */
export interface ObservedScenario {
  upstream: TestRegistry;
  registryId: string;
  upstreamId: string;
  blob: { digest: string; size: number };
  /** Upstream password, admin token, access token, registry token. */
  secrets: string[];
  /** Bearer authorization for pulls from the (private) registry. */
  authorization: string;
}

/**
 * A private registry over a password-protected upstream holding IMAGE, and
 * an access token exchanged for a registry token, so every kind of secret
 * passes through the run.
 */
export async function setUpPrivateScenario(env: TestEnv, vreg: { gatewayUrl: string; admin: AdminClient }): Promise<ObservedScenario> {
  const upstream = await startTestRegistry({ auth: true });
  const creds = upstream.credentials;
  if (!creds) throw new Error('the test registry has no credentials');
  await copyImage(
    env.skopeo,
    `${hostOf(env.upstreamA)}/${IMAGE.name}:${IMAGE.tag}`,
    `${hostOf(upstream.url)}/${IMAGE.name}:${IMAGE.tag}`,
    creds,
  );
  const blob = await firstLayer(env.upstreamA, IMAGE);
  const { id: registryId } = await vreg.admin.createRegistry(`observed-${Date.now()}`, { visibility: 'private' });
  const { id: upstreamId } = await vreg.admin.addUpstream(registryId, {
    name: 'private',
    url: upstream.url,
    username: creds.username,
    password: creds.password,
  });
  const created = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', {
    name: 'observability',
    scopes: ['read_virtual_registry'],
  });
  if (created.status !== 201) throw new Error(`create token: ${created.status} ${JSON.stringify(created.body)}`);
  const scope = `repository:virtual_registries/containers/${registryId}/${IMAGE.name}:pull`;
  const granted = await registryToken(vreg.gatewayUrl, [scope], basic('observer', created.body.token));
  if (!granted.token) throw new Error(`registry token: ${granted.status}`);
  return {
    upstream,
    registryId,
    upstreamId,
    blob,
    secrets: [creds.password, vreg.admin.token, created.body.token, granted.token],
    authorization: `Bearer ${granted.token}`,
  };
}

/** GETs the scenario's blob through the gateway: status, cache result and the bytes' length. */
export async function pullBlob(gatewayUrl: string, s: ObservedScenario): Promise<{ status: number; cache: string | null; bytes: number }> {
  const res = await fetch(`${gatewayUrl}/v2/virtual_registries/containers/${s.registryId}/${IMAGE.name}/blobs/${s.blob.digest}`, {
    headers: { authorization: s.authorization },
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, cache: res.headers.get('x-vreg-cache'), bytes: body.length };
}

/** Waits until the catalog recorded the scenario's blob (the miss's fill committed). */
export async function blobRecorded(admin: AdminClient, s: ObservedScenario): Promise<true | undefined> {
  const entries = await admin.cacheEntries(s.upstreamId);
  return entries.some((e) => String(e.relative_path ?? e.relativePath ?? '').endsWith(s.blob.digest)) ? true : undefined;
}

/**
 * A public registry whose only upstream refuses connections, and one pull
 * through it: an upstream error for the metrics, no cache result.
 */
export async function pullFromDeadUpstream(gatewayUrl: string, admin: AdminClient): Promise<number> {
  const { id } = await admin.createRegistry(`dead-${Date.now()}`, { visibility: 'public' });
  await admin.addUpstream(id, { name: 'dead', url: 'http://127.0.0.1:9' });
  const res = await fetch(`${gatewayUrl}/v2/virtual_registries/containers/${id}/library/none/manifests/latest`);
  await res.arrayBuffer();
  return res.status;
}

/** One sample line of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`. */
export function sumOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers left once
 * strings, label matchers, ranges, grouping clauses, numbers and function
 * calls are taken out.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || PROMQL_WORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every `expr` of every panel (rows' nested panels included). */
export function dashboardExpressions(dashboard: { panels?: unknown[] }): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  const walk = (panels: unknown[] | undefined): void => {
    for (const p of panels ?? []) {
      const panel = p as { title?: string; targets?: Array<{ expr?: string }>; panels?: unknown[] };
      for (const t of panel.targets ?? []) if (typeof t.expr === 'string') out.push({ panel: panel.title ?? '?', expr: t.expr });
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

export function loadDashboard(): Record<string, unknown> {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Record<string, unknown>;
}

/** A span as an OTLP/JSON export carries it, flattened. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  raw: unknown;
}

/**
 * A stand-in OpenTelemetry collector: accepts OTLP/HTTP JSON trace exports
 * (`POST /v1/traces`) and keeps every span with its service name.
 */
export class OtlpJsonReceiver {
  readonly spans: ReceivedSpan[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.#collect(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.#server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #collect(text: string): void {
    type KeyValue = { key: string; value: Record<string, unknown> };
    const body = JSON.parse(text) as {
      resourceSpans?: Array<{
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: Array<{ spans?: Array<Record<string, unknown> & { attributes?: KeyValue[] }> }>;
      }>;
    };
    const valueOf = (v: Record<string, unknown>): unknown => Object.values(v)[0];
    for (const rs of body.resourceSpans ?? []) {
      const service = String(valueOf(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}) ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of span.attributes ?? []) attributes[a.key] = valueOf(a.value);
          this.spans.push({
            service,
            traceId: String(span.traceId),
            spanId: String(span.spanId),
            parentSpanId: String(span.parentSpanId ?? ''),
            name: String(span.name),
            kind: Number(span.kind),
            attributes,
            raw: span,
          });
        }
      }
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

/** The secrets found in `text` (none, when all is well), shown by a prefix only. */
export function secretsIn(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && text.includes(s)).map((s) => `${s.slice(0, 6)}…`);
}
