import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Containerd } from './containerd.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** A Docker daemon of a test's own, on a containerd of the test's own; stopped by its pid. */
export interface Dockerd {
  readonly socket: string;
  /** Runs the docker CLI against this daemon, with its own client config (`DOCKER_CONFIG`); rejects with stderr. */
  docker(args: readonly string[]): Promise<string>;
  /** Replaces the CLI's config.json (`auths` for `docker pull` credentials). */
  setClientConfig(config: object): Promise<void>;
  logTail(): string;
  /** SIGTERM by pid (SIGKILL past 20 s), then removes its directories. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's dockerd (20.10, extracted by scripts/test-env/install.sh,
 * `VREG_TEST_DOCKERD_ROOT`) with everything under a short directory of its
 * own: data root, exec root, socket, pid file, daemon.json, the CLI's config.
 * No bridge, no iptables: it only pulls. `daemon` is merged into daemon.json
 * (`registry-mirrors`). It reaches nothing but loopback: Docker always falls
 * back to registry-1.docker.io when a mirror fails, so its proxy is a closed
 * local port for every other address, and a broken mirror fails a pull at
 * once instead of pulling from the internet. dockerd still creates
 * /run/docker/plugins, a path it hard-codes.
 */
export async function startDockerd(containerd: Containerd, daemon: object, options: { root?: string } = {}): Promise<Dockerd> {
  const root = options.root ?? process.env.VREG_TEST_DOCKERD_ROOT;
  if (root === undefined)
    throw new Error('VREG_TEST_DOCKERD_ROOT is not set: run the suite with `npm test` (scripts/test-env/install.sh extracts dockerd)');
  const dir = await mkdtemp('/tmp/vdkd-');
  const socket = join(dir, 'd.sock');
  const clientConfig = join(dir, 'client');
  await mkdir(clientConfig);
  await writeFile(join(clientConfig, 'config.json'), '{}');
  await writeFile(
    join(dir, 'daemon.json'),
    JSON.stringify({
      'storage-driver': 'vfs',
      // Else dockerd writes /etc/docker/key.json; only daemon.json takes it.
      'deprecated-key-path': join(dir, 'key.json'),
      ...daemon,
    }),
  );
  const path = `${root}/usr/sbin:${root}/usr/bin:${process.env.PATH ?? ''}`;
  let log = '';
  const child: ChildProcess = spawn(
    join(root, 'usr/sbin/dockerd'),
    [
      '--config-file',
      join(dir, 'daemon.json'),
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '-H',
      `unix://${socket}`,
      '--containerd',
      containerd.socket,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--bridge=none',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        PATH: path,
        HTTP_PROXY: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '127.0.0.1,localhost',
      },
    },
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cli = join(root, 'usr/bin/docker');
  const docker = async (args: readonly string[]): Promise<string> => {
    try {
      return (
        await run(cli, ['-H', `unix://${socket}`, ...args], {
          timeout: 120_000,
          maxBuffer: 16 << 20,
          env: { ...process.env, PATH: path, DOCKER_CONFIG: clientConfig },
        })
      ).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await waitFor(
      `dockerd on ${socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}: ${log.slice(-2000)}`);
        return (await docker(['version', '--format', '{{.Server.Version}}']).catch(() => undefined)) === undefined ? undefined : true;
      },
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    socket,
    docker,
    setClientConfig: (config) => writeFile(join(clientConfig, 'config.json'), JSON.stringify(config)),
    logTail: () => log.slice(-4000),
    stop,
  };
}
