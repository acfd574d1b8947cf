import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/distributed-under-test.ts';
import { waitFor } from '../../support/wait.ts';

/**
 * A server of our own (nats-server, FerretDB, moto) on a free port with its
 * data in a temp dir, which a fault test may kill and start again: never the
 * shared test servers other tests rely on. Killed only by its own PID.
 */
export class PrivateServer {
  #child: ChildProcess | undefined;
  #log = '';

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly command: () => string[],
    readonly ready: () => Promise<boolean>,
  ) {}

  /** nats-server with JetStream, its store in `dir` so streams survive a restart. */
  static async nats(): Promise<PrivateServer & { url: string }> {
    const [port, monitor] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'vreg-faults-nats-'));
    const bin = binary('VREG_TEST_NATS_SERVER_BIN', 'nats-server');
    const server = new PrivateServer(
      'nats-server',
      dir,
      () => [bin, '-js', '-sd', join(dir, 'data'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)],
      () => httpOk(`http://127.0.0.1:${monitor}/healthz`),
    );
    return Object.assign(server, { url: `nats://127.0.0.1:${port}` });
  }

  /** FerretDB on SQLite files in `dir`: a MongoDB-wire server whose data survives a restart. */
  static async ferretdb(): Promise<PrivateServer & { url: string }> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vreg-faults-ferretdb-'));
    const bin = binary('VREG_TEST_FERRETDB_BIN', 'ferretdb');
    const server = new PrivateServer(
      'ferretdb',
      dir,
      () => [
        bin,
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--listen-addr=127.0.0.1:${port}`,
        '--state-dir=-',
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      () => tcpOpen(port),
    );
    return Object.assign(server, { url: `mongodb://127.0.0.1:${port}/` });
  }

  /** moto's S3 server (in memory: stopping it would lose the objects, so S3 outages use a `TcpGate` in front). */
  static async moto(): Promise<PrivateServer & { url: string }> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vreg-faults-moto-'));
    const bin = binary('VREG_TEST_MOTO_SERVER_BIN', 'moto_server');
    const server = new PrivateServer(
      'moto',
      dir,
      () => [bin, '-H', '127.0.0.1', '-p', String(port)],
      () => httpOk(`http://127.0.0.1:${port}/moto-api/`),
    );
    return Object.assign(server, { url: `http://127.0.0.1:${port}` });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const [bin, ...args] = this.command();
    const child = spawn(bin!, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer): void => {
      this.#log = (this.#log + c.toString()).slice(-5000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
    await waitFor(
      `${this.name} to start`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}: ${this.#log}`);
        return (await this.ready()) ? true : undefined;
      },
      30_000,
      100,
    );
  }

  /** Kills this server's own process (SIGKILL unless told) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid!, signal);
    await exited;
  }

  /** Kills the process and removes its data dir. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP pass-through in front of a server that can be closed: while closed,
 * new connections are refused and open ones reset, as when the server is
 * down. Used for moto, which keeps its objects only in memory.
 */
export class TcpGate {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(readonly targetPort: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async open(): Promise<void> {
    if (this.#port === 0) this.#port = await freePort();
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(this.#port, '127.0.0.1', r));
    this.#server = server;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.resetAndDestroy();
    const server = this.#server;
    this.#server = undefined;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  }
}

function binary(envName: string, name: string): string {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} not found: set ${envName} or run scripts/test-env/install.sh`);
  return found;
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  return res?.ok ?? false;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
