import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CatalogEnv } from '@vreg/catalog';
import { FetcherEnv } from '@vreg/fetcher';
import { GatewayEnv } from '@vreg/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { capture, deployTools, type EnvShape, envProblems, INSTALL_TIMEOUT_MS, ROOT } from './deploy-tools.ts';

// docker-compose.yml, loaded by the loader of `docker compose config`
// (compose-spec/compose-go, deploy/scripts/compose-config): no Docker engine
// needed. The .env is the one a user makes with the README's command.

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  ports?: Array<{ host_ip?: string; target: number; published?: string }>;
  volumes?: Array<{ type: string; source?: string; target: string; read_only?: boolean }>;
  tmpfs?: string[];
  read_only?: boolean;
  user?: string;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  restart?: string;
}
interface ComposeProject {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const VREG_SERVICES: Record<string, EnvShape> = { catalog: CatalogEnv, fetcher: FetcherEnv, gateway: GatewayEnv };
const DEFAULT_PORTS: Record<string, number> = { gateway: 5000, catalog: 5002, fetcher: 5003 };
/** The metric names the dashboard is built on: every one must be exported (packages/telemetry/src/vreg-metrics.ts). */
const DASHBOARD_METRICS = [
  'vreg_http_requests_total',
  'vreg_cache_results_total',
  'vreg_bytes_served_total',
  'vreg_upstream_request_duration_seconds_bucket',
  'vreg_upstream_errors_total',
  'vreg_fills_in_flight',
  'vreg_consumer_pending',
  'vreg_event_loop_delay_seconds',
  'vreg_blob_memory_cache_bytes',
];

let composeConfig: string;
let workDir: string;
let envFile: string;
let project: ComposeProject;

async function load(...envFiles: string[]): Promise<ComposeProject> {
  const args = envFiles.flatMap((f) => ['--env-file', f]);
  return JSON.parse(await capture(composeConfig, [...args, resolve(ROOT, 'docker-compose.yml')])) as ComposeProject;
}

function service(name: string): ComposeService {
  const s = project.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

function envOf(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v ?? '']));
}

beforeAll(async () => {
  composeConfig = (await deployTools()).composeConfig;
  workDir = await mkdtemp(join(tmpdir(), 'vreg-compose-'));
  // The README's command: bash deploy/scripts/compose-env.sh > .env
  envFile = join(workDir, '.env');
  await writeFile(envFile, await capture('bash', [resolve(ROOT, 'deploy/scripts/compose-env.sh')]));
  project = await load(envFile);
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('is what the README tells to run', () => {
    const readme = readFileSync(resolve(ROOT, 'deploy/README.md'), 'utf8');
    expect(readme).toContain('bash deploy/scripts/compose-env.sh > .env');
    expect(readme).toContain('docker compose up -d --build');
    expect(readme).toContain('localhost:5000/virtual_registries/containers/');
  });

  it('refuses to start while a secret of the example env is blank, naming each one', async () => {
    const failure = await load(resolve(ROOT, 'deploy/compose.env.example')).then(
      () => 'loaded',
      (err: Error) => err.message,
    );
    for (const name of [
      'VREG_SECRET_KEY',
      'VREG_ADMIN_TOKEN',
      'MONGO_ROOT_PASSWORD',
      'MINIO_ROOT_PASSWORD',
      'VREG_S3_SECRET_ACCESS_KEY',
      'GRAFANA_ADMIN_PASSWORD',
    ]) {
      expect(failure).toContain(`required variable ${name} is missing a value`);
    }
  });

  it('creates the bucket and a key limited to it, idempotently (minio-init.sh against a recording mc)', async () => {
    // A stand-in `mc`: records each call; `admin user info` reports the policy once attached.
    const bin = join(workDir, 'bin');
    const log = join(workDir, 'mc.log');
    await capture('mkdir', ['-p', bin]);
    await writeFile(
      join(bin, 'mc'),
      `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in\n  "admin user info"*) [ -f ${log}.attached ] && echo "PolicyName: vreg-blobs" ;;\n  "admin policy attach"*) touch ${log}.attached ;;\n  "admin policy create"*) cat "$6" > ${log}.policy ;;\nesac\nexit 0\n`,
    );
    await chmod(join(bin, 'mc'), 0o755);
    const env = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      MINIO_ROOT_USER: 'root',
      MINIO_ROOT_PASSWORD: 'rootpw12',
      BUCKET: 'vreg-blobs',
      ACCESS_KEY: 'vreg',
      SECRET_KEY: 'vregsecret',
    };
    const script = resolve(ROOT, 'deploy/compose/minio-init.sh');
    await capture('sh', [script], env);
    await capture('sh', [script], env);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls.filter((c) => c.startsWith('mb '))).toEqual([
      'mb --ignore-existing local/vreg-blobs',
      'mb --ignore-existing local/vreg-blobs',
    ]);
    expect(calls.filter((c) => c.startsWith('admin policy attach'))).toEqual(['admin policy attach local vreg-blobs --user vreg']);
    const policy = JSON.parse(await readFile(`${log}.policy`, 'utf8')) as { Statement: Array<{ Resource: string[] }> };
    expect(policy.Statement.flatMap((st) => st.Resource)).toEqual(['arn:aws:s3:::vreg-blobs', 'arn:aws:s3:::vreg-blobs/*']);
  });

  it('has the whole distributed stack', () => {
    expect(Object.keys(project.services).sort()).toEqual(
      [
        'catalog',
        'fetcher',
        'gateway',
        'grafana',
        'jaeger',
        'minio',
        'minio-init',
        'mongo',
        'nats',
        'otel-collector',
        'prometheus',
        'proxy',
      ].sort(),
    );
    expect(service('mongo').image).toMatch(/^mongo:7(\.|$)/);
    expect(service('nats').command).toContain('--jetstream');
  });

  for (const [name, shape] of Object.entries(VREG_SERVICES)) {
    it(`gives ${name} an environment its config schema accepts, with no unknown VREG_* variable`, () => {
      expect(envProblems(shape, envOf(name))).toEqual([]);
      expect(service(name).command).toEqual([name]);
      expect(envOf(name).VREG_LISTEN).toBe(`0.0.0.0:${DEFAULT_PORTS[name]}`);
    });
  }

  it('gives every vreg service the same secret key and namespace, and traces to the collector', () => {
    const keys = Object.keys(VREG_SERVICES).map((n) => envOf(n).VREG_SECRET_KEY);
    expect(new Set(keys).size).toBe(1);
    expect(new Set(Object.keys(VREG_SERVICES).map((n) => envOf(n).VREG_NAMESPACE)).size).toBe(1);
    for (const name of Object.keys(VREG_SERVICES)) {
      expect(envOf(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
      expect(envOf(name).OTEL_SERVICE_NAME).toBe(`vreg-${name}`);
    }
  });

  it('connects the services to the servers of the stack, with the credentials of the .env', () => {
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(envOf('catalog').VREG_MONGO_URL).toBe(`mongodb://vreg:${env.MONGO_ROOT_PASSWORD}@mongo:27017/?authSource=admin`);
    expect(envOf('catalog').VREG_ADMIN_TOKEN).toBe(env.VREG_ADMIN_TOKEN);
    for (const name of ['gateway', 'fetcher', 'catalog']) {
      expect(envOf(name)).toMatchObject({
        VREG_NATS_URL: 'nats://nats:4222',
        VREG_S3_ENDPOINT: 'http://minio:9000',
        VREG_S3_BUCKET: 'vreg-blobs',
        VREG_S3_SECRET_ACCESS_KEY: env.VREG_S3_SECRET_ACCESS_KEY,
      });
    }
    expect(service('minio-init').environment).toMatchObject({
      BUCKET: 'vreg-blobs',
      ACCESS_KEY: env.VREG_S3_ACCESS_KEY_ID,
      SECRET_KEY: env.VREG_S3_SECRET_ACCESS_KEY,
    });
  });

  it('runs the vreg services as uid 10001 on a read-only root with /tmp on tmpfs, no capabilities and no privilege escalation', () => {
    for (const name of Object.keys(VREG_SERVICES)) {
      const s = service(name);
      expect(s.user, name).toBe('10001:10001');
      expect(s.read_only, name).toBe(true);
      expect(s.tmpfs, name).toContain('/tmp');
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(s.stop_grace_period, name).toBeDefined();
    }
  });

  it('spools gateway fills to a volume of each replica, not to the /tmp tmpfs', () => {
    expect(envOf('gateway').VREG_SPOOL_DIR).toBe('/spool');
    expect(service('gateway').volumes).toContainEqual(expect.objectContaining({ type: 'volume', target: '/spool' }));
    expect(service('gateway').volumes?.find((v) => v.target === '/spool')?.source ?? '').toBe('');
  });

  it('health-checks every long-running service except the two distroless tracing images', () => {
    const unchecked = Object.entries(project.services)
      .filter(([, s]) => s.restart !== 'no' && (!s.healthcheck?.test?.length || s.healthcheck.disable))
      .map(([n]) => n);
    expect(unchecked.sort()).toEqual(['jaeger', 'otel-collector']);
    for (const name of Object.keys(VREG_SERVICES)) {
      expect(service(name).healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
    }
  });

  it('starts each service only once what it needs is healthy (or, for the bucket, done)', () => {
    const needs = (name: string): Record<string, string> =>
      Object.fromEntries(Object.entries(service(name).depends_on ?? {}).map(([k, v]) => [k, v.condition]));
    expect(needs('minio-init')).toEqual({ minio: 'service_healthy' });
    expect(needs('catalog')).toEqual({ nats: 'service_healthy', mongo: 'service_healthy', 'minio-init': 'service_completed_successfully' });
    for (const name of ['gateway', 'fetcher']) {
      expect(needs(name)).toMatchObject({
        nats: 'service_healthy',
        'minio-init': 'service_completed_successfully',
        catalog: 'service_healthy',
      });
    }
    expect(needs('proxy')).toEqual({ gateway: 'service_healthy', catalog: 'service_healthy' });
    expect(needs('grafana')).toEqual({ prometheus: 'service_healthy' });
  });

  it('runs two gateways behind the proxy on localhost:5000', () => {
    expect(service('gateway').deploy?.replicas).toBe(2);
    expect(service('gateway').ports ?? []).toEqual([]);
    expect(service('proxy').ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', target: 5000, published: '5000' })]);
  });

  it('has the proxy stream pulls unbuffered, unlimited in size, with long timeouts, /v2/ to the gateways and /api/ to the catalog', () => {
    const mount = service('proxy').volumes?.find((v) => v.target === '/etc/nginx/nginx.conf');
    expect(mount?.read_only).toBe(true);
    const conf = readFileSync(mount?.source ?? '', 'utf8').replace(/#.*$/gm, '');
    expect(conf).toMatch(/client_max_body_size 0;/);
    expect(conf).toMatch(/proxy_buffering off;/);
    expect(conf).toMatch(/proxy_request_buffering off;/);
    for (const directive of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = Number(conf.match(new RegExp(`${directive} (\\d+)s;`))?.[1] ?? 0);
      expect(seconds, directive).toBeGreaterThanOrEqual(300);
    }
    expect(conf).toMatch(/server gateway:5000 resolve;/);
    expect(conf).toMatch(/location \/v2\/ \{\s*proxy_pass http:\/\/vreg_gateway;/);
    expect(conf).toMatch(/location \/api\/ \{\s*proxy_pass http:\/\/vreg_catalog;/);
    expect(conf).toMatch(/server catalog:5002 resolve;/);
  });

  it('keeps NATS JetStream, MongoDB, MinIO, Prometheus and Grafana data in named volumes', () => {
    const volumeAt = (name: string, target: string): string | undefined =>
      service(name).volumes?.find((v) => v.type === 'volume' && v.target === target)?.source;
    expect(service('nats').command).toContain('--store_dir=/data');
    expect(volumeAt('nats', '/data')).toBe('nats-data');
    expect(volumeAt('mongo', '/data/db')).toBe('mongo-data');
    expect(volumeAt('minio', '/data')).toBe('minio-data');
    expect(volumeAt('prometheus', '/prometheus')).toBe('prometheus-data');
    expect(volumeAt('grafana', '/var/lib/grafana')).toBe('grafana-data');
  });

  it('mounts only files that exist', () => {
    for (const [name, s] of Object.entries(project.services)) {
      for (const v of s.volumes ?? []) {
        if (v.type === 'bind') expect(existsSync(v.source ?? ''), `${name}: ${v.source}`).toBe(true);
      }
    }
  });

  it('has Prometheus scrape /metrics of every replica of every vreg service on its listen port', () => {
    const mount = service('prometheus').volumes?.find((v) => v.target === '/etc/prometheus/prometheus.yml');
    const config = parseYaml(readFileSync(mount?.source ?? '', 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        metrics_path?: string;
        dns_sd_configs?: Array<{ names: string[]; port: number; type: string }>;
      }>;
    };
    for (const name of Object.keys(VREG_SERVICES)) {
      const job = config.scrape_configs.find((j) => j.dns_sd_configs?.some((d) => d.names.includes(name)));
      expect(job, name).toBeDefined();
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job?.dns_sd_configs?.[0]).toMatchObject({ type: 'A', port: Number(envOf(name).VREG_LISTEN?.split(':')[1]) });
    }
  });

  it("provisions Grafana with the Helm chart's dashboard, whose queries use the vreg metric names", () => {
    const dashboards = service('grafana').volumes?.find((v) => v.target === '/etc/grafana/dashboards/vreg');
    expect(dashboards?.source).toBe(resolve(ROOT, 'deploy/k8s/vreg/dashboards'));
    const provider = parseYaml(readFileSync(resolve(ROOT, 'deploy/compose/grafana/provisioning/dashboards/vreg.yaml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(provider.providers[0]?.options.path).toBe('/etc/grafana/dashboards/vreg');

    const dashboard = JSON.parse(readFileSync(resolve(ROOT, 'deploy/k8s/vreg/dashboards/vreg.json'), 'utf8')) as {
      uid: string;
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    expect(dashboard.uid).toBe('vreg-overview');
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/\bvreg_[a-z_]+\b/g) ?? []));
    expect([...used].sort()).toEqual([...DASHBOARD_METRICS].sort());
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('sends traces through the OpenTelemetry collector to Jaeger', () => {
    const mount = service('otel-collector').volumes?.find((v) => v.target === '/etc/otelcol/config.yaml');
    const config = parseYaml(readFileSync(mount?.source ?? '', 'utf8')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.service.pipelines.traces.receivers).toEqual(['otlp']);
    const exporter = config.service.pipelines.traces.exporters[0] ?? '';
    expect(config.exporters[exporter]?.endpoint).toBe('jaeger:4317');
  });
});
