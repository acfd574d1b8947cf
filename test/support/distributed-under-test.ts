import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AdminClient } from './admin-client.ts';
import { distributedEnv } from './distributed-env.ts';
import type { VregUnderTest } from './pull-scenarios.ts';
import { testEnv } from './test-env.ts';
import { waitFor } from './wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A service process started the way `npm run start:<service>` starts it. */
export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** The last 20,000 characters the process wrote (stdout and stderr), for error messages. */
  output: () => string;
  /** Everything the process wrote, for tests that check what was logged. */
  fullOutput: () => string;
  /** Base URL of its ops listener (/metrics, /healthz, /readyz) when started with `ops`. */
  opsUrl?: string;
}

/**
 * A service process started the way `npm run start:<service>` starts it (`embedded`: the way `npm start` does).
 * `ops`: give the process a listener of its own for metrics and health (VREG_OPS_LISTEN on a free port).
 */
export async function startService(
  name: 'gateway' | 'fetcher' | 'catalog' | 'embedded',
  env: Record<string, string>,
  options: { ops?: boolean } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const opsPort = options.ops ? await freePort() : undefined;
  const entry = name === 'embedded' ? 'src/main.ts' : `services/${name}/src/main.ts`;
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      VREG_LISTEN: `127.0.0.1:${port}`,
      ...(opsPort === undefined ? {} : { VREG_OPS_LISTEN: `127.0.0.1:${opsPort}` }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const everything: Buffer[] = [];
  const keep = (c: Buffer): void => {
    everything.push(c);
    output = (output + c.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const opsUrl = opsPort === undefined ? undefined : `http://127.0.0.1:${opsPort}`;
  await waitFor(
    `${name} to answer /healthz (output: ${output.slice(-2000)})`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output.slice(-3000)}`);
      const res = await fetch(`${opsUrl ?? url}/healthz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    60_000,
    200,
  );
  return {
    name,
    url,
    child,
    output: () => output,
    fullOutput: () => Buffer.concat(everything).toString('utf8'),
    ...(opsUrl === undefined ? {} : { opsUrl }),
  };
}

export async function stopService(service: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => service.child.once('exit', () => r()));
  service.child.kill(signal);
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * vreg in distributed mode: catalog, fetcher and gateway as separate
 * processes on the real NATS, MongoDB-wire (FerretDB) and S3 (moto) servers
 * of the test environment, each run in its own namespace, database and bucket.
 */
export async function startDistributedUnderTest(
  extraEnv: Partial<Record<'gateway' | 'fetcher' | 'catalog', Record<string, string>>> = {},
  options: { gateways?: number; ops?: boolean } = {},
): Promise<VregUnderTest & { services: ServiceProcess[]; env: Record<string, string>; gatewayUrls: string[] }> {
  const t = testEnv();
  const id = randomBytes(4).toString('hex');
  const bucket = `vreg-${id}`;
  const s3 = new S3Client({
    endpoint: t.s3.endpoint,
    region: t.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.s3.accessKeyId, secretAccessKey: t.s3.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = distributedEnv(t, { namespace: `t${id}`, db: `vreg_${id}`, bucket });
  const adminToken = env.VREG_ADMIN_TOKEN!;
  const services: ServiceProcess[] = [];
  try {
    const ops = { ops: options.ops ?? false };
    services.push(await startService('catalog', { ...env, ...extraEnv.catalog }, ops));
    services.push(await startService('fetcher', { ...env, ...extraEnv.fetcher }, ops));
    for (let i = 0; i < (options.gateways ?? 1); i++) services.push(await startService('gateway', { ...env, ...extraEnv.gateway }, ops));
  } catch (err) {
    for (const s of services) await stopService(s);
    throw err;
  }
  const [catalog, , gateway] = services as [ServiceProcess, ServiceProcess, ServiceProcess];
  return {
    services,
    env,
    gatewayUrl: gateway.url,
    gatewayUrls: services.filter((s) => s.name === 'gateway').map((s) => s.url),
    admin: new AdminClient(catalog.url, adminToken),
    async storedDigests() {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'blobs/', ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const m = o.Key?.match(/^blobs\/(sha256|sha512)\/[a-f0-9]{2}\/([a-f0-9]+)$/);
          if (m) out.push(`${m[1]}:${m[2]}`);
        }
        token = page.NextContinuationToken;
      } while (token);
      return out;
    },
    async stop() {
      for (const s of [...services].reverse()) await stopService(s);
      s3.destroy();
    },
  };
}
