import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** A nats-server with JetStream this test process started and owns. */
export interface NatsTestServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** JetStream store directory, kept across `restart()`. */
  readonly storeDir: string;
  /** PID of the running server process (changes on restart). */
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store directory. */
  start(): Promise<void>;
  /** Stops the process (SIGTERM) and removes the store directory. */
  dispose(): Promise<void>;
}

/** Where the nats-server binary is: `PATH` first, then Go's default install directory. */
export function natsServerBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/root/go/bin', join(process.env.HOME ?? '/root', 'go', 'bin')];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error('nats-server not found on PATH or in ~/go/bin; install it or set VREG_TEST_NATS_URL');
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a private nats-server (`-js -sd <tmp> -a 127.0.0.1 -p <free port>`) and waits until it is ready. */
export async function startNatsServer(): Promise<NatsTestServer> {
  const binary = natsServerBinary();
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'vreg-nats-'));
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server not ready after 15 s:\n${log}`)), 15_000);
      proc.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
    proc.stderr?.resume();
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    process.kill(proc.pid, signal);
    await exited;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    kill: () => stop('SIGKILL'),
    start,
    dispose: async () => {
      await stop('SIGTERM');
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * The NATS server integration tests use: `VREG_TEST_NATS_URL` when set (the
 * project's test scripts start one), else a private one this call starts.
 * `release()` stops only a server it started.
 */
export async function acquireNatsTestServer(): Promise<{ servers: string[]; release(): Promise<void> }> {
  const url = process.env.VREG_TEST_NATS_URL;
  if (url) return { servers: url.split(','), release: async () => undefined };
  const server = await startNatsServer();
  return { servers: [server.url], release: () => server.dispose() };
}

/** A namespace no other test uses, so tests sharing a server never see each other's streams. */
export function randomNamespace(prefix = 't'): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/**
 * Deletes every stream (and so every consumer and KV bucket) of `namespace`
 * on the server: `<ns>_*` and `KV_<ns>_*`.
 */
export async function dropNamespace(servers: string[], namespace: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    for (const name of names) {
      if (name.startsWith(`${namespace}_`) || name.startsWith(`KV_${namespace}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}
