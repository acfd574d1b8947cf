import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CatalogEnv } from '@vreg/catalog';
import { FetcherEnv } from '@vreg/fetcher';
import { GatewayEnv } from '@vreg/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART, capture, deployTools, type EnvShape, envProblems, INSTALL_TIMEOUT_MS, ROOT } from './deploy-tools.ts';

// The Helm chart, rendered by a real helm (v3.22, deploy/scripts/install-tools.sh)
// in the value combinations users run, and checked against what a platform
// team requires of it: probes, security settings, resources, each Deployment's
// environment against its config schema, no credential in a ConfigMap, ingress for pulls.

// Rendered manifests are untyped YAML: `any` below is the honest type of what helm printed.
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */
type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

const SHAPES: Record<string, EnvShape> = { gateway: GatewayEnv, catalog: CatalogEnv, fetcher: FetcherEnv };
const CREDENTIAL_KEYS = ['VREG_SECRET_KEY', 'VREG_ADMIN_TOKEN', 'VREG_MONGO_URL', 'VREG_S3_ACCESS_KEY_ID', 'VREG_S3_SECRET_ACCESS_KEY'];
const PRODUCTION_VALUES = 'deploy/k8s/values-production.yaml';
/** What a user puts in secrets.existingSecret (values-production.yaml's header shows the command). */
const EXISTING_SECRET: Record<string, string> = {
  VREG_SECRET_KEY: 'ab'.repeat(32),
  VREG_ADMIN_TOKEN: 'existing-admin-token-0123456789',
  VREG_MONGO_URL: 'mongodb://vreg:pw@mongo-0.mongo:27017/?replicaSet=rs0&authSource=admin',
};

let helm: string;

async function helmRun(args: string[]): Promise<string> {
  return capture(helm, args, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    HELM_CACHE_HOME: join(tmpdir(), 'vreg-helm-cache'),
    HELM_CONFIG_HOME: join(tmpdir(), 'vreg-helm-config'),
  });
}

/** `helm template vreg deploy/k8s/vreg -n vreg <args>`, as objects. */
async function render(args: string[] = [], chart = CHART): Promise<Obj[]> {
  const out = await helmRun(['template', 'vreg', chart, '-n', 'vreg', ...args]);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

async function renderError(args: string[]): Promise<string> {
  return render(args).then(
    () => 'rendered',
    (err: Error) => err.message,
  );
}

const ofKind = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, name: string): Obj | undefined => objs.find((o) => o.kind === kind && o.metadata.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const decode = (v: string): string => Buffer.from(v, 'base64').toString('utf8');

/** A Deployment's container environment as the kubelet would build it. */
function containerEnv(
  objs: Obj[],
  container: any,
  existingSecret: Record<string, string>,
): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const from of container.envFrom ?? []) {
    const cm = from.configMapRef && named(objs, 'ConfigMap', from.configMapRef.name);
    if (from.configMapRef && !cm) problems.push(`envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
    Object.assign(env, cm?.data ?? {});
    if (from.secretRef) problems.push(`envFrom Secret ${from.secretRef.name}: every key would reach the container; use secretKeyRef`);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const secret = named(objs, 'Secret', ref.name);
    const value = secret
      ? secret.data?.[ref.key] === undefined
        ? undefined
        : decode(secret.data[ref.key] ?? '')
      : existingSecret[ref.key];
    if (value !== undefined) env[e.name] = value;
    else if (!ref.optional) problems.push(`${e.name}: key ${ref.key} missing from Secret ${ref.name}`);
  }
  return { env, problems };
}

/**
 * Every invariant of a rendered install; [] when all hold. Each message
 * names the object, so a failing test says what was removed.
 */
function invariantProblems(objs: Obj[], existingSecret: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  const deployments = ofKind(objs, 'Deployment');
  const components = deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/component']).sort();
  if (components.join() !== 'catalog,fetcher,gateway') problems.push(`Deployments for ${components.join()}, not catalog, fetcher, gateway`);

  for (const d of deployments) {
    const where = `Deployment ${d.metadata.name}`;
    const pod = d.spec?.template?.spec ?? {};
    const podLabels: Record<string, string> = d.spec?.template?.metadata?.labels ?? {};
    if (!matches(d.spec?.selector?.matchLabels ?? { none: 'x' }, podLabels)) problems.push(`${where}: selector does not match its pods`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${where}: automountServiceAccountToken is not false`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod runAsNonRoot is not true`);
    if (!(Number(pod.terminationGracePeriodSeconds) >= 30)) problems.push(`${where}: terminationGracePeriodSeconds under 30`);
    const containers: any[] = pod.containers ?? [];
    if (containers.length !== 1) problems.push(`${where}: ${containers.length} containers`);
    for (const c of containers) {
      const at = `${where} container ${c.name}`;
      const component = String(c.args?.[0] ?? '');
      const shape = SHAPES[component];
      if (!shape) problems.push(`${at}: args ${JSON.stringify(c.args)} name no vreg process`);
      const sc = c.securityContext ?? {};
      if (sc.runAsNonRoot !== true) problems.push(`${at}: runAsNonRoot is not true`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${at}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length) problems.push(`${at}: adds capabilities`);
      if ((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type !== 'RuntimeDefault')
        problems.push(`${at}: seccomp profile is not RuntimeDefault`);
      const { env, problems: envRefs } = containerEnv(objs, c, existingSecret);
      // Health and metrics live on the ops listener when there is one (VREG_OPS_LISTEN), else on the http port.
      const opsPortName = env.VREG_OPS_LISTEN ? 'ops' : 'http';
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = c[probe]?.httpGet;
        if (!get) problems.push(`${at}: no ${probe}`);
        else if (get.port !== opsPortName || !String(get.path).startsWith('/'))
          problems.push(`${at}: ${probe} is not an HTTP GET on the ${opsPortName} port`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problems.push(`${at}: no cpu and memory requests`);
      if (!c.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
      const tmp = (c.volumeMounts ?? []).find((m: any) => m.mountPath === '/tmp');
      const tmpVolume = (pod.volumes ?? []).find((v: any) => v.name === tmp?.name);
      if (!tmpVolume?.emptyDir) problems.push(`${at}: /tmp is not an emptyDir`);
      const port = (c.ports ?? []).find((p: any) => p.name === 'http');
      const opsPort = (c.ports ?? []).find((p: any) => p.name === 'ops');
      // The fetcher has no HTTP surface but its ops listener: with one, it listens nowhere else.
      const opsOnly = component === 'fetcher' && env.VREG_OPS_LISTEN !== undefined;
      if (!port && !opsOnly) problems.push(`${at}: no port named http`);
      if (port && opsOnly) problems.push(`${at}: a port named http nothing listens on`);
      if (env.VREG_OPS_LISTEN !== undefined && env.VREG_OPS_LISTEN !== `0.0.0.0:${opsPort?.containerPort}`)
        problems.push(`${at}: VREG_OPS_LISTEN ${env.VREG_OPS_LISTEN} is not 0.0.0.0 on a port named ops`);
      problems.push(...envRefs.map((p) => `${at}: ${p}`));
      // The root filesystem is read-only: every directory a service writes must be a volume.
      for (const key of ['VREG_SPOOL_DIR', 'VREG_DATA_DIR']) {
        const dir = env[key] ?? (key === 'VREG_SPOOL_DIR' && component === 'gateway' ? '/tmp/vreg-spool' : undefined);
        if (dir === undefined) continue;
        const mount = (c.volumeMounts ?? []).find((m: any) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`));
        if (!mount) problems.push(`${at}: ${key} ${dir} is on the read-only root filesystem`);
        if (key === 'VREG_SPOOL_DIR' && mount?.mountPath === '/tmp') problems.push(`${at}: the spool shares the small /tmp volume`);
      }
      if (shape) problems.push(...envProblems(shape, env).map((p) => `${at}: ${p}`));
      if (port && env.VREG_LISTEN !== `0.0.0.0:${port.containerPort}`)
        problems.push(`${at}: VREG_LISTEN ${env.VREG_LISTEN} is not 0.0.0.0:${port.containerPort}`);

      const services = ofKind(objs, 'Service').filter((s) => matches(s.spec?.selector ?? { none: 'x' }, podLabels));
      if (services.length !== 1) problems.push(`${at}: ${services.length} Services select its pods`);
      for (const s of services) {
        for (const name of [port ? 'http' : undefined, opsPort ? 'ops' : undefined].filter((n) => n !== undefined)) {
          if (!(s.spec?.ports ?? []).some((p: any) => p.name === name && p.targetPort === name))
            problems.push(`Service ${s.metadata.name}: no ${name} port to the container's ${name} port`);
        }
      }
    }
  }

  const secretValues = ofKind(objs, 'Secret').flatMap((s) => Object.values(s.data ?? {}).map(decode));
  secretValues.push(...Object.values(existingSecret));
  for (const cm of ofKind(objs, 'ConfigMap')) {
    for (const [key, value] of Object.entries(cm.data ?? {})) {
      if (CREDENTIAL_KEYS.includes(key)) problems.push(`ConfigMap ${cm.metadata.name}: holds the credential ${key}`);
      for (const secret of secretValues) {
        if (secret.length >= 8 && String(value).includes(secret))
          problems.push(`ConfigMap ${cm.metadata.name}: ${key} contains a secret value`);
      }
    }
  }

  const gateway = deployments.find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'gateway');
  const gatewayPods: Record<string, string> = gateway?.spec?.template?.metadata?.labels ?? {};
  const hpa = ofKind(objs, 'HorizontalPodAutoscaler')[0];
  if (hpa) {
    if (hpa.spec?.scaleTargetRef?.name !== gateway?.metadata.name) problems.push('HorizontalPodAutoscaler: does not scale the gateway');
    if (gateway?.spec?.replicas !== undefined) problems.push('gateway: replicas set although the HPA owns them');
    if (!(hpa.spec?.minReplicas >= 2)) problems.push('HorizontalPodAutoscaler: minReplicas under 2');
  }
  for (const pdb of ofKind(objs, 'PodDisruptionBudget')) {
    if (!deployments.some((d) => matches(pdb.spec?.selector?.matchLabels ?? { none: 'x' }, d.spec?.template?.metadata?.labels)))
      problems.push(`PodDisruptionBudget ${pdb.metadata.name}: selects no pods`);
  }
  const catalogPods: Record<string, string> =
    deployments.find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'catalog')?.spec?.template?.metadata?.labels ?? {};
  for (const ing of ofKind(objs, 'Ingress')) {
    if (ing.metadata.name.endsWith('-console')) {
      // The console's own hosts: people, never pulls, so never what an upstream sent on the console's origin.
      for (const rule of ing.spec?.rules ?? []) {
        for (const p of rule.http?.paths ?? []) {
          const svc = named(objs, 'Service', p.backend?.service?.name);
          if (p.path === '/v2' || !svc || !matches(svc.spec?.selector ?? { none: 'x' }, catalogPods))
            problems.push(`Ingress ${ing.metadata.name}: ${rule.host}${p.path} is not the catalog's console or admin API`);
        }
      }
      continue;
    }
    for (const rule of ing.spec?.rules ?? []) {
      const v2 = (rule.http?.paths ?? []).find((p: any) => p.path === '/v2');
      const svc = v2 && named(objs, 'Service', v2.backend?.service?.name);
      if (!svc || !matches(svc.spec?.selector ?? { none: 'x' }, gatewayPods))
        problems.push(`Ingress ${ing.metadata.name}: ${rule.host}/v2 does not reach the gateway`);
    }
  }
  return problems;
}

function deploymentOf(objs: Obj[], component: string): Obj {
  const d = ofKind(objs, 'Deployment').find((o) => o.metadata.labels?.['app.kubernetes.io/component'] === component);
  if (!d) throw new Error(`no ${component} Deployment`);
  return d;
}
const containerOf = (objs: Obj[], component: string): any => deploymentOf(objs, component).spec.template.spec.containers[0];

/** The `helm upgrade --install` commands of the READMEs (root, deploy/, the chart's), as `helm template` arguments. */
function readmeInstallCommands(): string[][] {
  const text = ['README.md', 'deploy/README.md', 'deploy/k8s/vreg/README.md']
    .map((f) => readFileSync(resolve(ROOT, f), 'utf8').replace(/\\\n\s*/g, ' '))
    .join('\n');
  const commands = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('helm upgrade --install vreg deploy/k8s/vreg'))
    .map((l) =>
      l
        .replace('helm upgrade --install vreg deploy/k8s/vreg', '')
        .split(/\s+/)
        .filter((a) => a !== '' && a !== '--create-namespace'),
    );
  return [...new Map(commands.map((c) => [c.join(' '), c])).values()];
}

/** NOTES.txt as `helm install` would print it (helm template renders no notes, so a copy of the chart renders them into a ConfigMap). */
async function renderNotes(args: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vreg-notes-'));
  try {
    await cp(CHART, dir, { recursive: true });
    const notes = await readFile(join(dir, 'templates/NOTES.txt'), 'utf8');
    await rm(join(dir, 'templates/NOTES.txt'));
    await writeFile(join(dir, 'templates/_notes.tpl'), `{{- define "test.notes" -}}\n${notes}\n{{- end -}}\n`);
    await writeFile(
      join(dir, 'templates/zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "test.notes" . | toJson }}\n',
    );
    const objs = await render([...args, '--show-only', 'templates/zz-notes.yaml'], dir);
    return objs[0]?.data?.notes ?? '';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  helm = (await deployTools()).helm;
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await rm(join(tmpdir(), 'vreg-helm-cache'), { recursive: true, force: true });
  await rm(join(tmpdir(), 'vreg-helm-config'), { recursive: true, force: true });
});

describe('the Helm chart', () => {
  it('is linted by helm v3.22', async () => {
    expect(await helmRun(['version', '--template', '{{.Version}}'])).toBe('v3.22.0');
  });

  it('passes helm lint --strict with the default values and with the production-like values file', async () => {
    expect(await helmRun(['lint', '--strict', CHART])).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(await helmRun(['lint', '--strict', CHART, '-f', PRODUCTION_VALUES])).toContain('0 chart(s) failed');
  });

  describe('rendered in the combinations users install', () => {
    const combos: Array<[string, string[], Record<string, string>?]> = [
      ['the default values', []],
      ['an existingSecret', ['--set', 'secrets.existingSecret=vreg-credentials'], EXISTING_SECRET],
      ['the production-like values file', ['-f', PRODUCTION_VALUES], EXISTING_SECRET],
      ['ingress-nginx with the admin API routed', ['--set', 'ingress.enabled=true', '--set', 'ingress.adminApi=true']],
      [
        'another ingress controller',
        ['--set', 'ingress.enabled=true', '--set', 'ingress.preset=none', '--set', 'ingress.className=traefik'],
      ],
      ['a NetworkPolicy', ['--set', 'networkPolicy.enabled=true']],
      ['a ServiceMonitor and the dashboard', ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.dashboard.enabled=true']],
      ['a fixed gateway count instead of the HPA', ['--set', 'gateway.autoscaling.enabled=false', '--set', 'gateway.replicaCount=3']],
      [
        'OpenTelemetry and static S3 keys',
        [
          '--set',
          'otel.enabled=true',
          '--set',
          'otel.endpoint=http://otel:4318',
          '--set',
          's3.accessKeyId=AKIAEXAMPLE',
          '--set',
          's3.secretAccessKey=s3-secret-value-123',
        ],
      ],
      [
        'extra settings per component',
        [
          '--set-string',
          'gateway.env.VREG_FILL_TIMEOUT_MS=600000',
          '--set-string',
          'fetcher.env.VREG_FETCHER_CONCURRENCY=16',
          '--set-string',
          'catalog.env.VREG_CATALOG_OBJECTS_CONCURRENCY=8',
        ],
      ],
    ];
    for (const [what, args, existing] of combos) {
      it(`keeps every invariant with ${what}`, async () => {
        expect(invariantProblems(await render(args), existing)).toEqual([]);
      });
    }

    it('keeps every invariant with the README install commands, which the tests render as they are written', async () => {
      const commands = readmeInstallCommands();
      expect(commands.length).toBe(2);
      for (const args of commands) {
        const existing = args.includes(PRODUCTION_VALUES) ? EXISTING_SECRET : {};
        expect(invariantProblems(await render(args), existing), args.join(' ')).toEqual([]);
        expect(await helmRun(['lint', '--strict', CHART, ...args])).toContain('0 chart(s) failed');
      }
    });
  });

  describe('the invariant check', () => {
    it('fails when a probe, a security setting, a resource or a required setting is removed', async () => {
      const good = await render();
      const cases: Array<[string, (objs: Obj[]) => void, string]> = [
        ['liveness probe', (o) => delete containerOf(o, 'gateway').livenessProbe, 'no livenessProbe'],
        ['readiness probe', (o) => delete containerOf(o, 'catalog').readinessProbe, 'no readinessProbe'],
        [
          'read-only root',
          (o) => delete containerOf(o, 'fetcher').securityContext.readOnlyRootFilesystem,
          'readOnlyRootFilesystem is not true',
        ],
        ['dropped capabilities', (o) => delete containerOf(o, 'gateway').securityContext.capabilities, 'capabilities do not drop ALL'],
        [
          'no privilege escalation',
          (o) => delete containerOf(o, 'gateway').securityContext.allowPrivilegeEscalation,
          'allowPrivilegeEscalation is not false',
        ],
        ['memory limit', (o) => delete containerOf(o, 'catalog').resources.limits, 'no memory limit'],
        [
          'the secret key',
          (o) => (containerOf(o, 'fetcher').env = containerOf(o, 'fetcher').env.filter((e: any) => e.name !== 'VREG_SECRET_KEY')),
          'VREG_SECRET_KEY: required and not set',
        ],
        ['the bucket', (o) => delete named(o, 'ConfigMap', 'vreg-gateway')!.data!.VREG_S3_BUCKET, 'VREG_S3_BUCKET: required and not set'],
        [
          'the spool volume',
          (o) => (containerOf(o, 'gateway').volumeMounts = containerOf(o, 'gateway').volumeMounts.filter((m: any) => m.name !== 'spool')),
          'VREG_SPOOL_DIR /spool is on the read-only root filesystem',
        ],
      ];
      for (const [what, remove, expected] of cases) {
        const objs = structuredClone(good);
        remove(objs);
        expect(invariantProblems(objs).join('\n'), what).toContain(expected);
      }
    });

    it('fails when a setting is misspelled or meant for another service', async () => {
      const objs = await render([
        '--set-string',
        'gateway.env.VREG_FILL_TIMEOUT_SECONDS=60',
        '--set-string',
        'fetcher.env.VREG_MONGO_DB=x',
      ]);
      const problems = invariantProblems(objs).join('\n');
      expect(problems).toContain('VREG_FILL_TIMEOUT_SECONDS: not a setting of this service');
      expect(problems).toContain('VREG_MONGO_DB: not a setting of this service');
    });

    it('fails when the values weaken the security context', async () => {
      const objs = await render([
        '--set',
        'securityContext.readOnlyRootFilesystem=false',
        '--set',
        'securityContext.allowPrivilegeEscalation=true',
      ]);
      expect(invariantProblems(objs).join('\n')).toMatch(
        /readOnlyRootFilesystem is not true[\s\S]*allowPrivilegeEscalation is not false|allowPrivilegeEscalation is not false[\s\S]*readOnlyRootFilesystem is not true/,
      );
    });
  });

  describe('values', () => {
    it('are checked by values.schema.json: a misspelled key, a credential among plain settings and an unknown preset are refused', async () => {
      expect(await renderError(['--set', 'gateway.replcaCount=3'])).toContain("additional properties 'replcaCount' not allowed");
      expect(await renderError(['--set', 'gateway.env.VREG_SECRET_KEY=abc'])).toContain('VREG_SECRET_KEY');
      expect(await renderError(['--set', 'ingress.preset=bogus'])).toContain('bogus');
      expect(await renderError(['--set-string', 's3.bucket=Not_A_Bucket'])).toContain('Not_A_Bucket');
    });

    it('bound every JetStream stream by bytes, messages and age, the same for each component, and refuse bounds JetStream would not take', async () => {
      for (const component of ['gateway', 'catalog', 'fetcher']) {
        expect(named(await render(), 'ConfigMap', `vreg-${component}`)?.data).toMatchObject({
          VREG_NATS_STREAM_MAX_BYTES: String(256 << 20),
          VREG_NATS_STREAM_MAX_MSGS: '1000000',
          VREG_NATS_STREAM_MAX_AGE_MS: String(7 * 86_400_000),
        });
      }
      const sized = await render(['--set', 'nats.streams.maxBytes=1073741824', '--set', 'nats.streams.maxAgeMs=86400000']);
      expect(named(sized, 'ConfigMap', 'vreg-fetcher')?.data).toMatchObject({
        VREG_NATS_STREAM_MAX_BYTES: '1073741824',
        VREG_NATS_STREAM_MAX_AGE_MS: '86400000',
      });
      expect(await renderError(['--set', 'nats.streams.maxBytes=1000'])).toContain('maxBytes');
      expect(await renderError(['--set', 'nats.streams.maxAgeMs=60000'])).toContain('maxAgeMs');
    });

    it('refuse an install with no MongoDB URL and no existingSecret', async () => {
      expect(await renderError(['--set', 'mongodb.url='])).toContain('mongodb.url is required');
    });
  });

  describe('secrets', () => {
    it('generates a 32-byte secret key and an admin token once, and keeps the Secret on uninstall', async () => {
      const secret = named(await render(), 'Secret', 'vreg-secrets');
      expect(secret?.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      expect(Buffer.from(decode(secret?.data?.VREG_SECRET_KEY ?? ''), 'base64')).toHaveLength(32);
      expect(decode(secret?.data?.VREG_ADMIN_TOKEN ?? '').length).toBeGreaterThanOrEqual(16);
    });

    it('takes given credentials as they are', async () => {
      const key = 'cd'.repeat(32);
      const secret = named(
        await render(['--set', `secrets.secretKey=${key}`, '--set', 'secrets.adminToken=given-admin-token-123456']),
        'Secret',
        'vreg-secrets',
      );
      expect(decode(secret?.data?.VREG_SECRET_KEY ?? '')).toBe(key);
      expect(decode(secret?.data?.VREG_ADMIN_TOKEN ?? '')).toBe('given-admin-token-123456');
    });

    it('with existingSecret, renders no Secret and reads every credential from the named one', async () => {
      const objs = await render(['--set', 'secrets.existingSecret=vreg-credentials']);
      expect(ofKind(objs, 'Secret')).toEqual([]);
      for (const component of ['gateway', 'catalog', 'fetcher']) {
        const refs = (containerOf(objs, component).env ?? []).map((e: any) => e.valueFrom?.secretKeyRef?.name);
        expect(new Set(refs)).toEqual(new Set(['vreg-credentials']));
      }
    });

    it('gives each component only the credentials it uses', async () => {
      const objs = await render(['--set', 's3.accessKeyId=AKIAEXAMPLE', '--set', 's3.secretAccessKey=s3-secret-value-123']);
      const keys = (component: string): string[] => (containerOf(objs, component).env ?? []).map((e: any) => e.name).sort();
      // The catalog's GC deletes objects: it reads the S3 keys too.
      expect(keys('catalog')).toEqual([
        'VREG_ADMIN_TOKEN',
        'VREG_MONGO_URL',
        'VREG_S3_ACCESS_KEY_ID',
        'VREG_S3_SECRET_ACCESS_KEY',
        'VREG_SECRET_KEY',
      ]);
      expect(keys('gateway')).toEqual(['VREG_S3_ACCESS_KEY_ID', 'VREG_S3_SECRET_ACCESS_KEY', 'VREG_SECRET_KEY']);
      expect(keys('fetcher')).toEqual(keys('gateway'));
    });
  });

  describe('the gateway', () => {
    const gatewayEnv = async (args: string[]) => {
      const objs = await render(args);
      return containerEnv(objs, containerOf(objs, 'gateway'), {}).env;
    };

    it('scales with an HPA (2 to 10 on CPU) and keeps one pod through disruptions', async () => {
      const objs = await render();
      const hpa = named(objs, 'HorizontalPodAutoscaler', 'vreg-gateway');
      expect(hpa?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'vreg-gateway' } });
      expect(hpa?.spec.metrics[0]).toMatchObject({
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      });
      expect(named(objs, 'PodDisruptionBudget', 'vreg-gateway')?.spec).toMatchObject({ minAvailable: 1 });
      expect(deploymentOf(objs, 'gateway').spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    });

    it('caps its open connections with gateway.maxConnections (VREG_MAX_CONNECTIONS), 10,000 unless set', async () => {
      expect((await gatewayEnv([])).VREG_MAX_CONNECTIONS).toBe('10000');
      expect((await gatewayEnv(['--set', 'gateway.maxConnections=2500'])).VREG_MAX_CONNECTIONS).toBe('2500');
      expect(await renderError(['--set', 'gateway.maxConnections=-1'])).toMatch(/maxConnections/);
    });

    it('keeps the most-read blobs in memory with gateway.blobMemoryCacheBytes (VREG_BLOB_MEMORY_CACHE_BYTES), 256 MiB unless set', async () => {
      expect((await gatewayEnv([])).VREG_BLOB_MEMORY_CACHE_BYTES).toBe('268435456');
      expect((await gatewayEnv(['--set', 'gateway.blobMemoryCacheBytes=0'])).VREG_BLOB_MEMORY_CACHE_BYTES).toBe('0');
      expect(await renderError(['--set', 'gateway.blobMemoryCacheBytes=-1'])).toMatch(/blobMemoryCacheBytes/);
    });

    it('spools fills to their own volume, an emptyDir or a per-pod ephemeral claim', async () => {
      const spoolOf = (objs: Obj[]): any => deploymentOf(objs, 'gateway').spec.template.spec.volumes.find((v: any) => v.name === 'spool');
      const defaults = await render();
      expect(named(defaults, 'ConfigMap', 'vreg-gateway')?.data?.VREG_SPOOL_DIR).toBe('/spool');
      expect(containerOf(defaults, 'gateway').volumeMounts).toContainEqual({ name: 'spool', mountPath: '/spool' });
      expect(spoolOf(defaults)).toEqual({ name: 'spool', emptyDir: { sizeLimit: '10Gi' } });
      const claim = spoolOf(
        await render(['--set', 'gateway.spool.ephemeral.size=50Gi', '--set', 'gateway.spool.ephemeral.storageClassName=fast']),
      ).ephemeral.volumeClaimTemplate.spec;
      expect(claim).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '50Gi' } } });
    });

    it('drains before SIGTERM and has time to finish pulls in flight', async () => {
      const gateway = deploymentOf(await render(), 'gateway').spec.template.spec;
      expect(gateway.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
      expect(gateway.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
    });

    it('probes /healthz for startup and liveness and /readyz for readiness', async () => {
      for (const component of ['gateway', 'catalog', 'fetcher']) {
        const c = containerOf(await render(), component);
        expect([c.startupProbe.httpGet.path, c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual([
          '/healthz',
          '/healthz',
          '/readyz',
        ]);
      }
      const c = containerOf(await render(['--set', 'probes.readinessPath=/healthz']), 'gateway');
      expect(c.readinessProbe.httpGet.path).toBe('/healthz');
    });
  });

  describe('the ingress', () => {
    it('suits image pulls on ingress-nginx: no body limit, no buffering, long timeouts, TLS', async () => {
      const ing = named(await render(['--set', 'ingress.enabled=true']), 'Ingress', 'vreg');
      expect(ing?.metadata.annotations).toMatchObject({
        'nginx.ingress.kubernetes.io/proxy-body-size': '0',
        'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
        'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '900',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '900',
      });
      expect(ing?.spec.ingressClassName).toBe('nginx');
      expect(ing?.spec.tls).toEqual([{ hosts: ['registry.example.com'], secretName: 'vreg-tls' }]);
      expect(ing?.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(['/v2']);
    });

    it('routes /api to the catalog only when asked', async () => {
      const ing = named(await render(['--set', 'ingress.enabled=true', '--set', 'ingress.adminApi=true']), 'Ingress', 'vreg');
      expect(ing?.spec.rules[0].http.paths.map((p: any) => [p.path, p.backend.service.name])).toEqual([
        ['/v2', 'vreg-gateway'],
        ['/api', 'vreg-catalog'],
      ]);
    });

    it('serves the console and the admin API on consoleHosts only, with no pulls there and none of them on the pull hosts', async () => {
      const objs = await render([
        '--set',
        'ingress.enabled=true',
        '--set',
        'ingress.consoleHosts[0]=console.example.com',
        '--set',
        'networkPolicy.enabled=true',
      ]);
      expect(invariantProblems(objs)).toEqual([]);
      const pulls = named(objs, 'Ingress', 'vreg');
      expect(pulls?.spec.rules.map((r: any) => [r.host, r.http.paths.map((p: any) => p.path)])).toEqual([
        ['registry.example.com', ['/v2']],
      ]);
      const console = named(objs, 'Ingress', 'vreg-console');
      expect(console?.spec.rules.map((r: any) => [r.host, r.http.paths.map((p: any) => [p.path, p.backend.service.name])])).toEqual([
        [
          'console.example.com',
          [
            ['/console', 'vreg-catalog'],
            ['/api', 'vreg-catalog'],
          ],
        ],
      ]);
      expect(console?.spec.tls).toEqual([{ hosts: ['console.example.com'], secretName: 'vreg-console-tls' }]);
      const catalogPolicy = named(objs, 'NetworkPolicy', 'vreg-catalog');
      expect(catalogPolicy?.spec.ingress.some((r: any) => JSON.stringify(r.from).includes('ingress-nginx'))).toBe(true);
      expect(ofKind(await render(['--set', 'ingress.enabled=true']), 'Ingress').map((i) => i.metadata.name)).toEqual(['vreg']);
    });

    it("takes another controller's annotations instead of nginx's", async () => {
      const ing = named(
        await render([
          '--set',
          'ingress.enabled=true',
          '--set',
          'ingress.preset=none',
          '--set',
          'ingress.className=haproxy',
          '--set-string',
          'ingress.annotations.haproxy\\.org/timeout-server=900s',
        ]),
        'Ingress',
        'vreg',
      );
      const keys = Object.keys(ing?.metadata.annotations ?? {});
      expect(keys.filter((k) => k.startsWith('nginx.'))).toEqual([]);
      expect(ing?.metadata.annotations?.['haproxy.org/timeout-server']).toBe('900s');
      expect(ing?.spec.ingressClassName).toBe('haproxy');
    });
  });

  describe('monitoring', () => {
    it('scrapes /metrics of the three Services with a ServiceMonitor', async () => {
      const objs = await render([
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set-string',
        'metrics.serviceMonitor.labels.release=kps',
      ]);
      const sm = named(objs, 'ServiceMonitor', 'vreg');
      expect(sm?.metadata.labels?.release).toBe('kps');
      expect(sm?.spec.endpoints).toEqual([expect.objectContaining({ port: 'ops', path: '/metrics' })]);
      const selected = ofKind(objs, 'Service').filter((s) => matches(sm?.spec.selector.matchLabels, s.metadata.labels));
      expect(selected.map((s) => s.metadata.name).sort()).toEqual(['vreg-catalog', 'vreg-fetcher', 'vreg-gateway']);
      for (const svc of selected)
        expect(svc.spec.ports, svc.metadata.name).toContainEqual(expect.objectContaining({ name: 'ops', port: 9464 }));
    });

    it('serves metrics and health on an ops port of their own (VREG_OPS_LISTEN), never on the public ports, and as before with opsPort 0', async () => {
      const objs = await render(['--set', 'networkPolicy.enabled=true']);
      for (const component of ['gateway', 'catalog', 'fetcher']) {
        const c = containerOf(objs, component);
        expect(containerEnv(objs, c, {}).env.VREG_OPS_LISTEN, component).toBe('0.0.0.0:9464');
        expect(c.ports.find((p: any) => p.name === 'ops')?.containerPort, component).toBe(9464);
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
          expect(c[probe].httpGet.port, `${component} ${probe}`).toBe('ops');
      }
      // The fetcher has nothing else to serve.
      expect(containerOf(objs, 'fetcher').ports.map((p: any) => p.name)).toEqual(['ops']);
      // Prometheus and helm test reach the ops port only; the ingress controller the public one only.
      const gatewayPolicy = named(objs, 'NetworkPolicy', 'vreg-gateway');
      const portsFrom = (peer: string) =>
        gatewayPolicy?.spec.ingress
          .filter((r: any) => JSON.stringify(r.from).includes(peer))
          .flatMap((r: any) => r.ports.map((p: any) => p.port));
      expect(portsFrom('monitoring')).toEqual(['ops']);
      expect(portsFrom('helm-test')).toEqual(['ops']);
      expect(portsFrom('ingress-nginx')).toEqual(['http']);
      const before = await render(['--set', 'metrics.opsPort=0']);
      expect(invariantProblems(before)).toEqual([]);
      for (const component of ['gateway', 'catalog', 'fetcher']) {
        const c = containerOf(before, component);
        expect(containerEnv(before, c, {}).env.VREG_OPS_LISTEN, component).toBeUndefined();
        expect(c.readinessProbe.httpGet.port).toBe('http');
      }
    });

    it('ships the Grafana dashboard as a ConfigMap for the sidecar, the same JSON as compose provisions', async () => {
      const cm = named(
        await render(['--set', 'metrics.dashboard.enabled=true', '--set', 'metrics.dashboard.namespace=monitoring']),
        'ConfigMap',
        'vreg-dashboard',
      );
      expect(cm?.metadata.namespace).toBe('monitoring');
      expect(cm?.metadata.labels?.grafana_dashboard).toBe('1');
      const file = readFileSync(resolve(CHART, 'dashboards/vreg.json'), 'utf8');
      expect(JSON.parse(cm?.data?.['vreg.json'] ?? '{}')).toEqual(JSON.parse(file));
    });
  });

  describe('the NetworkPolicy', () => {
    it('admits pulls from the ingress controller only, scrapes from monitoring, and limits egress to DNS and the servers each component uses', async () => {
      const objs = await render(['--set', 'networkPolicy.enabled=true']);
      const policies = ofKind(objs, 'NetworkPolicy');
      expect(policies).toHaveLength(3);
      const policyOf = (component: string): Obj => {
        const pods = deploymentOf(objs, component).spec.template.metadata.labels;
        const p = policies.filter((np) => matches(np.spec.podSelector.matchLabels, pods));
        expect(p, component).toHaveLength(1);
        return p[0] as Obj;
      };
      const peersOf = (np: Obj): string[] =>
        np.spec.ingress.flatMap((r: any) =>
          r.from.map(
            (f: any) =>
              f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ??
              f.podSelector?.matchLabels?.['app.kubernetes.io/component'],
          ),
        );
      expect(peersOf(policyOf('gateway')).sort()).toEqual(['helm-test', 'ingress-nginx', 'monitoring']);
      expect(peersOf(policyOf('catalog')).sort()).toEqual(['helm-test', 'monitoring']);
      expect(peersOf(policyOf('fetcher')).sort()).toEqual(['helm-test', 'monitoring']);
      const egressPorts = (np: Obj): number[] => np.spec.egress.flatMap((r: any) => (r.ports ?? []).map((p: any) => p.port));
      expect(egressPorts(policyOf('catalog')).sort((a, b) => a - b)).toEqual([53, 53, 443, 4222, 9000, 27017]);
      expect(egressPorts(policyOf('gateway'))).toEqual(expect.arrayContaining([53, 4222, 443, 9000, 80]));
      expect(egressPorts(policyOf('gateway'))).not.toContain(27017);
    });
  });

  describe('NOTES.txt', () => {
    it('tells how to get the admin token, log in and pull through the ingress host', async () => {
      const notes = await renderNotes(['--set', 'ingress.enabled=true', '--set', 'ingress.hosts[0]=registry.acme.test']);
      expect(notes).toContain("kubectl -n vreg get secret vreg-secrets -o jsonpath='{.data.VREG_ADMIN_TOKEN}' | base64 -d");
      expect(notes).toContain('docker login registry.acme.test -u');
      expect(notes).toContain('docker pull registry.acme.test/virtual_registries/containers/1/library/alpine:latest');
      expect(notes).toContain('VREG_SECRET_KEY was generated: back it up');
    });

    it('prints the containerd hosts.toml files that make nodes pull through the ingress host as their mirror', async () => {
      const notes = await renderNotes(['--set', 'ingress.enabled=true', '--set', 'ingress.hosts[0]=registry.acme.test']);
      expect(notes).toContain(
        [
          '  # /etc/containerd/certs.d/_default/hosts.toml',
          '  [host."https://registry.acme.test"]',
          '    capabilities = ["pull", "resolve"]',
        ].join('\n'),
      );
      expect(notes).toContain(
        [
          '  # /etc/containerd/certs.d/docker.io/hosts.toml',
          '  server = "https://registry-1.docker.io"',
          '',
          '  [host."https://registry.acme.test"]',
          '    capabilities = ["pull", "resolve"]',
        ].join('\n'),
      );
      expect(notes).toContain('vreg mirror-config\n   containerd --url https://registry.acme.test');
      expect(notes).toContain(`-d '{"hosts":["docker.io"]}' $VREG_ADMIN/registries/1/mirror_hosts`);
      expect(
        await renderNotes([
          '--set',
          'ingress.enabled=true',
          '--set',
          'ingress.hosts[0]=registry.acme.test',
          '--set',
          'ingress.tls.enabled=false',
        ]),
      ).toContain('[host."http://registry.acme.test"]');
      expect(await renderNotes([])).toContain('then these notes show how nodes pull through vreg as their registry mirror');
    });

    it('tells to port-forward without an ingress, and names the existing Secret', async () => {
      const notes = await renderNotes(['--set', 'secrets.existingSecret=vreg-credentials']);
      expect(notes).toContain('kubectl -n vreg port-forward svc/vreg-gateway 5000:5000');
      expect(notes).toContain('docker pull localhost:5000/virtual_registries/containers/1/library/alpine:latest');
      expect(notes).toContain('get secret vreg-credentials');
      expect(notes).not.toContain('was generated');
    });
  });

  it('has a helm test pod per component that checks /healthz through the Service', async () => {
    const pods = ofKind(await render(), 'Pod');
    expect(pods.map((p) => p.metadata.annotations?.['helm.sh/hook'])).toEqual(['test', 'test', 'test']);
    expect(pods.map((p) => p.spec.containers[0].env[0].value).sort()).toEqual([
      'vreg-catalog:9464',
      'vreg-fetcher:9464',
      'vreg-gateway:9464',
    ]);
    const onPublicPorts = ofKind(await render(['--set', 'metrics.opsPort=0']), 'Pod');
    expect(onPublicPorts.map((p) => p.spec.containers[0].env[0].value).sort()).toEqual([
      'vreg-catalog:5002',
      'vreg-fetcher:5003',
      'vreg-gateway:5000',
    ]);
  });
});
