import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './distributed-under-test.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** A CNCF distribution registry this test started, optionally behind htpasswd Basic auth, that can be stopped and started again. */
export interface TestRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `user:password` when it requires Basic auth. */
  credentials?: { username: string; password: string };
  /** Stops the process (by its PID); data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/**
 * A bcrypt hash for an htpasswd file. distribution only reads bcrypt; no
 * bcrypt lives in Node, so this asks the C library's crypt(3) through perl
 * (libxcrypt implements `$2b$`).
 */
async function bcrypt(password: string): Promise<string> {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // 21 free characters and a last one whose unused low bits are zero.
  const salt = Array.from(randomBytes(21), (b) => alphabet[b % 64]).join('') + 'e';
  const { stdout } = await run('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$10$${salt}`]);
  if (!stdout.startsWith('$2b$10$')) throw new Error(`crypt(3) made no bcrypt hash (${stdout.slice(0, 7)}): is libxcrypt missing?`);
  return stdout;
}

/**
 * Starts `docker-registry serve` on a free loopback port with its own data
 * directory; with `auth`, behind htpasswd Basic auth with a random password.
 */
export async function startTestRegistry(options: { auth?: boolean } = {}): Promise<TestRegistry> {
  const bin = process.env.VREG_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';
  const dir = await mkdtemp(join(tmpdir(), 'vreg-auth-registry-'));
  const port = await freePort();
  const credentials = options.auth ? { username: 'puller', password: `upstream-pw-${randomBytes(12).toString('hex')}` } : undefined;
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (credentials) {
    await writeFile(join(dir, 'htpasswd'), `${credentials.username}:${await bcrypt(credentials.password)}\n`);
    config.push('auth:', '  htpasswd:', '    realm: vreg-test-private-upstream', `    path: ${join(dir, 'htpasswd')}`);
  }
  await writeFile(join(dir, 'config.yml'), `${config.join('\n')}\n`);
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    const current = child;
    await waitFor(`registry on ${url} (${stderr})`, async () => {
      if (current.exitCode !== null) throw new Error(`registry exited with ${current.exitCode}: ${stderr}`);
      const res = await fetch(`${url}/v2/`).catch(() => undefined);
      await res?.arrayBuffer();
      // 401 is "up" for the one with auth.
      return res !== undefined && (res.status === 200 || res.status === 401) ? true : undefined;
    });
  };
  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null || current.pid === undefined) return;
    const exited = new Promise<void>((r) => current.once('exit', () => r()));
    process.kill(current.pid, 'SIGTERM');
    const timer = setTimeout(() => current.pid !== undefined && current.exitCode === null && process.kill(current.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url,
    ...(credentials ? { credentials } : {}),
    stop,
    start,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Copies an image between registries over plain HTTP, keeping its digests; `destCreds` for a registry with auth. */
export async function copyImage(
  skopeo: string,
  from: string,
  to: string,
  destCreds?: { username: string; password: string },
): Promise<void> {
  const args = [
    'copy',
    '--all',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    `docker://${from}`,
    `docker://${to}`,
  ];
  if (destCreds) args.splice(1, 0, '--dest-creds', `${destCreds.username}:${destCreds.password}`);
  await run(skopeo, args, { timeout: 120_000 });
}
