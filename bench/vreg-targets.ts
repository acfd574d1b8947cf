import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { imageNode } from '../test/deploy/bundle.ts';
import { AdminClient } from '../test/support/admin-client.ts';
import { freePort, startDistributedUnderTest } from '../test/support/distributed-under-test.ts';
import { workerPids } from '../test/support/process-tree.ts';
import { outputTail, type PullTarget, waitForOk } from './pull-target.ts';

const ROOT = resolve(import.meta.dirname, '..');

export interface VregTargetOptions {
  /** Where vreg's one upstream lives (upstream A, or a counting proxy in front of it). */
  upstreamUrl: string;
  /** When set, the vreg process(es) run with `--cpu-prof` and write profiles here on exit. */
  cpuProfDir?: string;
  /** VREG_WORKERS of embedded vreg; default VREG_BENCH_WORKERS, else vreg's own default (auto). */
  workers?: number | 'auto';
  /** Further VREG_* settings, over the bench's own (e.g. a cache turned off, to measure the path under it). */
  env?: Record<string, string>;
}

/** An embedded vreg's state on disk, enough to start it again on the same data. */
interface EmbeddedData {
  dataDir: string;
  adminToken: string;
}

/**
 * vreg embedded mode as its own process, the way `npm start` runs it, with a
 * fresh data directory (a cold cache), one public registry and one upstream.
 * `restart()` stops it and starts a new process on the same data (a warm
 * cache in a process that has served nothing yet).
 */
export async function startEmbeddedVreg(options: VregTargetOptions): Promise<PullTarget> {
  const data = { dataDir: await mkdtemp(join(tmpdir(), 'vreg-bench-')), adminToken: `bench-${randomBytes(16).toString('hex')}` };
  return spawnEmbedded(options, data, undefined);
}

async function spawnEmbedded(options: VregTargetOptions, data: EmbeddedData, registryId: string | undefined): Promise<PullTarget> {
  const port = await freePort();
  // Node as the image runs it (scripts/start.sh passes the same flags), then any profiling.
  const node = imageNode();
  const nodeArgs = [...node.flags, ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [])];
  // VREG_BENCH_BUNDLE=<dir of `npm run build` output> runs the bundled JavaScript instead of the TypeScript through tsx.
  const entry = process.env.VREG_BENCH_BUNDLE
    ? [join(resolve(process.env.VREG_BENCH_BUNDLE), 'vreg.mjs'), 'embedded']
    : ['--import', 'tsx', join(ROOT, 'src/main.ts')];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      // The image's options, for the bundle and for tsx alike (scripts/start.sh passes the same).
      NODE_OPTIONS: node.options,
      VREG_LISTEN: `127.0.0.1:${port}`,
      VREG_DATA_DIR: data.dataDir,
      VREG_SPOOL_DIR: join(data.dataDir, 'spool'),
      VREG_ADMIN_TOKEN: data.adminToken,
      VREG_LOG_LEVEL: process.env.VREG_BENCH_LOG_LEVEL ?? 'warn',
      // The bench's upstreams listen on 127.0.0.1 (SSRF guard), and its clients pull far past the per-address rate limit.
      VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1',
      VREG_PULL_RATE_LIMIT: '0',
      ...workersEnv(options.workers),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = outputTail(child);
  const url = `http://127.0.0.1:${port}`;
  const stopProcess = (): Promise<void> => stopChild(child);
  const stop = async (): Promise<void> => {
    await stopProcess();
    await rm(data.dataDir, { recursive: true, force: true });
  };
  try {
    await waitForOk('vreg (embedded)', `${url}/readyz`, 60_000, () => (child.exitCode === null ? undefined : out.text()));
    // Printed once every worker listens (with workers, the first answers before the others).
    const deadline = Date.now() + 60_000;
    while (!out.text().includes('vreg listening on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const id = registryId ?? (await createPublicRegistry(new AdminClient(url, data.adminToken), options.upstreamUrl));
    // With workers, they serve: their pids (children of the primary) are measured with it.
    const workers = workerPids(child.pid!);
    return {
      label: `${process.env.VREG_BENCH_BUNDLE ? 'vreg embedded (bundle)' : 'vreg embedded'}${workers.length ? ` ×${workers.length} workers` : ''}`,
      bases: [`${url}/v2/virtual_registries/containers/${id}`],
      pids: [child.pid!, ...workers],
      servingPids: workers.length ? workers : [child.pid!],
      stop,
      restart: async () => {
        await stopProcess();
        return spawnEmbedded(options, data, id);
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * vreg distributed mode with `gateways` gateway processes (plus catalog and
 * fetcher) on the test env's NATS, FerretDB and moto, in their own namespace,
 * database and bucket, started by the integration tests' harness.
 */
export async function startDistributedVreg(options: VregTargetOptions & { gateways: number }): Promise<PullTarget> {
  const profile: Record<string, string> = options.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfDir}` } : {};
  const vreg = await startDistributedUnderTest({ gateway: { ...profile, VREG_PULL_RATE_LIMIT: '0' } }, { gateways: options.gateways });
  try {
    const registryId = await createPublicRegistry(vreg.admin, options.upstreamUrl);
    const gateways = vreg.services.filter((s) => s.name === 'gateway');
    return {
      label: `vreg distributed ×${options.gateways}`,
      bases: vreg.gatewayUrls.map((u) => `${u}/v2/virtual_registries/containers/${registryId}`),
      pids: gateways.map((g) => g.child.pid!),
      stop: () => vreg.stop(),
    };
  } catch (err) {
    await vreg.stop();
    throw err;
  }
}

/** VREG_WORKERS for a vreg process: the option, else VREG_BENCH_WORKERS, else none (vreg's default). */
function workersEnv(workers: number | 'auto' | undefined): Record<string, string> {
  const value = workers ?? process.env.VREG_BENCH_WORKERS;
  return value === undefined ? {} : { VREG_WORKERS: String(value) };
}

/** A public registry (anonymous pulls) with one upstream; resolves its id. */
async function createPublicRegistry(admin: AdminClient, upstreamUrl: string): Promise<string> {
  const name = `bench-${randomBytes(3).toString('hex')}`;
  let res = await admin.call<{ id: string }>('POST', '/registries', { name, visibility: 'public' });
  // Before registry visibility existed the field was rejected and every registry was pullable anonymously.
  if (res.status === 400) res = await admin.call<{ id: string }>('POST', '/registries', { name });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create registry: ${res.status} ${JSON.stringify(res.body)}`);
  const registryId = String(res.body.id);
  await admin.addUpstream(registryId, { name: 'a', url: upstreamUrl });
  return registryId;
}

/** SIGTERM (so `--cpu-prof` can write its profile), SIGKILL after 15 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
