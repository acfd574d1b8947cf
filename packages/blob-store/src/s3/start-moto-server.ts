import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const PYENV_MOTO = '/root/.pyenv/shims/moto_server';

/** A moto S3 server this process started; stop it when done. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** PID of the server process. */
  readonly pid: number;
  /** Stops the server by its PID: SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Starts `moto_server` on a free loopback port for one test run (the
 * integration tests' fallback when `VREG_TEST_S3_ENDPOINT` is not set) and
 * waits until it answers HTTP.
 * @throws Error when moto exits or does not answer within `timeoutMs`.
 */
export async function startMotoServer(timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const command = existsSync(PYENV_MOTO) ? PYENV_MOTO : 'moto_server';
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  // Backstop: a worker that dies before afterAll must not leave moto behind.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const server: MotoServer = {
    endpoint,
    pid: child.pid ?? -1,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stop(child, exited);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited before answering (${child.exitCode ?? child.signalCode}): ${stderr}`);
    }
    if (await Promise.race([answers(endpoint), spawnError])) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  process.kill(pid, 'SIGTERM');
  const killer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 10_000);
  await exited;
  clearTimeout(killer);
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
