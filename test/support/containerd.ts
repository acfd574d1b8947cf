import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VregCli } from './mirror-setup.ts';
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
  /** `--print-chainid`: ctr prints `image chain ID: sha256:…`, the snapshot {@link Containerd.readUnpacked} reads. */
  printChainId?: boolean;
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
  /**
   * Reads `path` from the unpacked root filesystem of the committed snapshot
   * `chainId` (what the pull unpacked), through a read-only view it removes
   * again. Nothing is mounted: the view's mounts name the snapshotter's own
   * directories, and the file is read from the topmost layer that holds it.
   */
  readUnpacked(namespace: string, chainId: string, path: string): Promise<Buffer>;
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

/**
 * Where containerd goes when no mirror answers: a closed local port. The
 * files `vreg mirror-config` prints name the real registries there
 * (registry-1.docker.io, https://ghcr.io); a test must neither wait on the
 * internet nor pass because the real registry answered.
 */
const NOWHERE = 'http://127.0.0.1:9';

/**
 * The files `vreg mirror-config containerd <args>` writes, in a new
 * temporary directory (the caller removes it). Where a file falls back to
 * the upstream host (its `server`, after the `[host]` that is vreg), the
 * fallback is pointed at `fallback` instead, nowhere by default; a file
 * whose `server` is vreg itself (`--no-fallback`) is left as written.
 */
export async function mirrorConfigHostsDir(
  cli: VregCli,
  args: readonly string[],
  options: { stdin?: string; fallback?: string } = {},
): Promise<string> {
  const fallback = options.fallback ?? NOWHERE;
  const dir = await mkdtemp(join(tmpdir(), 'vreg-certs-d-'));
  const written = await cli(['mirror-config', 'containerd', ...args, '--output-dir', dir], options.stdin);
  for (const line of written.split('\n')) {
    const file = line.replace(/^wrote /, '');
    const toml = await readFile(file, 'utf8');
    if (!toml.includes('[host."')) continue;
    const local = toml.includes('server = ')
      ? toml.replace(/^server = ".*"$/m, `server = "${fallback}"`)
      : `server = "${fallback}"\n${toml}`;
    await writeFile(file, local);
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
        ...(o.printChainId ? ['--print-chainid'] : []),
        ref,
      ]);
    },
    async readUnpacked(namespace, chainId, path) {
      const key = `vreg-read-${randomBytes(6).toString('hex')}`;
      // The view and its mounts in one call: a view is no garbage-collection root, so a collection may remove it at any time.
      const printed = await ctr(['--namespace', namespace, 'snapshots', 'view', '--mounts', key, chainId]);
      try {
        const mounts = JSON.parse(printed) as Array<{ Type: string; Source: string; Options: string[] | null }>;
        // overlayfs: a bind mount of the one layer, or an overlay whose lowerdir lists the layers topmost first.
        const dirs = mounts.flatMap((m) =>
          m.Type === 'bind' ? [m.Source] : (m.Options ?? []).filter((o) => o.startsWith('lowerdir=')).flatMap((o) => o.slice(9).split(':')),
        );
        if (dirs.length === 0) throw new Error(`no directory in the mounts of ${chainId}: ${printed}`);
        for (const d of dirs) {
          const bytes = await readFile(join(d, path)).catch(() => undefined);
          if (bytes !== undefined) return bytes;
        }
        throw new Error(`${path} is in no layer of ${chainId} (${dirs.join(', ')})`);
      } finally {
        await ctr(['--namespace', namespace, 'snapshots', 'rm', key]).catch((err: Error) => {
          if (!/not found/.test(err.message)) throw err;
        });
      }
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
