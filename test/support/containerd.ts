import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/**
 * containerd refuses unix socket paths longer than 104 bytes, and its ttrpc
 * socket is the grpc path plus `.ttrpc`: the daemon's directory must stay
 * short, so it lives under /tmp whatever TMPDIR says, never under a
 * worktree's deep path.
 */
const SHORT_ROOT = '/tmp';

/** Plugins a pull never needs: no Kubernetes CRI, no snapshotters this machine cannot mount, no tracing exporter. */
const DISABLED_PLUGINS = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

/** What `ctr images pull` takes besides the reference. */
export interface CtrPullOptions {
  /** A `--hosts-dir`: `<host>/hosts.toml` files (containerd's certs.d layout). */
  hostsDir: string;
  /** containerd namespace of the image record; default `default`. */
  namespace?: string;
  /** `user:password` for the registry's challenge (what CRI passes from a pull secret). */
  user?: string;
  /** `linux/arm64`; default the machine's own. */
  platform?: string;
}

/** A containerd daemon of a test's own: own root, state, socket and config; stopped by its pid. */
export interface Containerd {
  /** The grpc socket (`ctr --address`). */
  readonly socket: string;
  /** The daemon's directory: config, root, state, log. */
  readonly dir: string;
  /** Runs `ctr --address <socket> ...args`; rejects with ctr's stderr when it fails. */
  ctr(args: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
  /** `ctr images pull --hosts-dir ...` of `ref` (fully qualified: ctr does not normalise `alpine`). */
  pull(ref: string, options: CtrPullOptions): Promise<string>;
  /**
   * Digests in a namespace's content store, sorted. The blobs are shared
   * between namespaces on disk (a second namespace's pull fetches nothing),
   * but each namespace lists only what it pulled.
   */
  contentDigests(namespace: string): Promise<string[]>;
  /** The bytes of one content blob. */
  content(namespace: string, digest: string): Promise<Buffer>;
  /** Every blob in the namespace's content store re-hashes to its own digest; returns how many were checked. */
  verifyContent(namespace: string): Promise<number>;
  /** Removes every image of every namespace and waits until the garbage collector emptied the content store. */
  clear(): Promise<void>;
  /** The last lines of the daemon's log, for failure messages. */
  logTail(): Promise<string>;
  /** SIGTERM by pid (SIGKILL past 20 s), then removes its directory. */
  stop(): Promise<void>;
}

/** Writes a `--hosts-dir` tree: `{ 'docker.io': toml, _default: toml }` → `<dir>/<host>/hosts.toml`. */
export async function writeHostsDir(dir: string, files: Readonly<Record<string, string>>): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  for (const [host, toml] of Object.entries(files)) {
    await mkdir(join(dir, host), { recursive: true });
    await writeFile(join(dir, host, 'hosts.toml'), toml);
  }
  return dir;
}

/** Starts a containerd daemon as a plain background process (no systemd), ready when `ctr version` answers. */
export async function startContainerd(options: { bin?: string; ctrBin?: string } = {}): Promise<Containerd> {
  const bin = options.bin ?? 'containerd';
  const ctrBin = options.ctrBin ?? 'ctr';
  const dir = await mkdtemp(join(SHORT_ROOT, 'vctd-'));
  const socket = join(dir, 'c.sock');
  const config = [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `disabled_plugins = [${DISABLED_PLUGINS.map((p) => `"${p}"`).join(', ')}]`,
    '',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '[debug]',
    '  level = "info"',
    // Else it creates /opt/containerd.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.toml'), config);
  let log = '';
  const child: ChildProcess = spawn(bin, ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const ctr = async (args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> => {
    try {
      return (
        await run(ctrBin, ['--address', socket, ...args], { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, encoding: 'buffer' })
      ).stdout.toString('latin1');
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`ctr ${args.join(' ')} failed: ${e.stderr?.toString() || e.message}`, { cause: err });
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
      `containerd on ${socket}`,
      async () => {
        const failed = await Promise.race([spawnFailed, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
        if (failed) throw new Error(`containerd did not start: ${failed.message}`);
        if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}: ${log.slice(-2000)}`);
        return (await ctr(['version'], { timeoutMs: 5_000 }).then(
          () => true,
          () => undefined,
        ))
          ? true
          : undefined;
      },
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const contentDigests = async (namespace: string): Promise<string[]> =>
    (await ctr(['--namespace', namespace, 'content', 'ls', '-q']))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .sort();

  const content = async (namespace: string, digest: string): Promise<Buffer> => {
    const { stdout } = await run(ctrBin, ['--address', socket, '--namespace', namespace, 'content', 'get', digest], {
      encoding: 'buffer',
      maxBuffer: 512 << 20,
    }).catch((err: { stderr?: Buffer; message: string }) => {
      throw new Error(`ctr content get ${digest} failed: ${err.stderr?.toString() || err.message}`);
    });
    return stdout;
  };

  return {
    socket,
    dir,
    ctr,
    async pull(ref, o) {
      return ctr([
        '--namespace',
        o.namespace ?? 'default',
        'images',
        'pull',
        '--hosts-dir',
        o.hostsDir,
        ...(o.user === undefined ? [] : ['--user', o.user]),
        ...(o.platform === undefined ? [] : ['--platform', o.platform]),
        ref,
      ]);
    },
    contentDigests,
    content,
    async verifyContent(namespace) {
      const digests = await contentDigests(namespace);
      for (const d of digests) {
        const actual = `sha256:${createHash('sha256')
          .update(await content(namespace, d))
          .digest('hex')}`;
        if (actual !== d) throw new Error(`content ${d} hashes to ${actual}`);
      }
      return digests.length;
    },
    async clear() {
      const namespaces = (await ctr(['namespaces', 'ls', '-q'])).split('\n').filter((n) => n.trim() !== '');
      for (const ns of namespaces) {
        const images = (await ctr(['--namespace', ns, 'images', 'ls', '-q'])).split('\n').filter((i) => i.trim() !== '');
        if (images.length > 0) await ctr(['--namespace', ns, 'images', 'rm', '--sync', ...images]);
      }
      // `--sync` waits for the garbage collector; the store is empty when no namespace references content any more.
      await waitFor(
        'an empty containerd content store',
        async () => {
          for (const ns of namespaces) if ((await contentDigests(ns)).length > 0) return undefined;
          return true;
        },
        30_000,
      );
    },
    logTail: async () => log.slice(-4000),
    stop,
  };
}
