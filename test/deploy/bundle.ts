import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../support/wait.ts';
import { ROOT } from './deploy-tools.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** `npm run build` into a fresh temporary directory: what the image copies to /app. */
export async function buildBundle(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'vreg-dist-'));
  const dir = join(parent, 'app');
  await run(process.execPath, [resolve(ROOT, 'deploy/build.mjs'), '--outdir', dir], { cwd: ROOT, timeout: 120_000 });
  return { dir, remove: () => rm(parent, { recursive: true, force: true }) };
}

/**
 * How the image runs node, read from the Dockerfile: its NODE_OPTIONS (ENV)
 * and the flags of its ENTRYPOINT between `node` and the script (those
 * NODE_OPTIONS may not carry), so the bundle runs here as it runs there.
 */
export function imageNode(): { options: string; flags: string[] } {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const options = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!options || !entrypoint) throw new Error('the Dockerfile sets no NODE_OPTIONS="..." or has no ENTRYPOINT [...]');
  return { options, flags: (JSON.parse(entrypoint) as string[]).slice(1, -1) };
}

/** One process started the way the image starts it: `node /app/vreg.mjs <command>`. */
export interface BundleProcess {
  url: string;
  listen: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

export async function startBundle(dir: string, command: string, env: Record<string, string>): Promise<BundleProcess> {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const node = imageNode();
  const child = spawn(process.execPath, [...node.flags, join(dir, 'vreg.mjs'), command], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      NODE_OPTIONS: node.options,
      ...env,
      VREG_LISTEN: listen,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c: Buffer): void => {
    output = (output + c.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  const url = `http://${listen}`;
  await waitFor(
    `${command} bundle to answer /healthz`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${output.slice(-3000)}`);
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    60_000,
    100,
  );
  return { url, listen, child, output: () => output, exited };
}

/** SIGTERM, then the exit code (SIGKILL after `graceMs`, reported as 'SIGKILL'). */
export async function stopBundle(p: BundleProcess, graceMs = 30_000): Promise<number | string> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}
