import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';

const BIN = resolve(import.meta.dirname, '../bin/vreg.mjs');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The lifecycle features through the `vreg` command as an operator runs it:
 * bin/vreg.mjs as a child process, logged in once (no VREG_TOKEN in its
 * environment), against a real embedded vreg whose upstreams are the seeded
 * distribution registries.
 */
describe('the vreg CLI drives the cache lifecycle (embedded vreg)', () => {
  const env = testEnv();
  let vreg: VregUnderTest & { dataDir: string };
  let configHome: string;
  let registry: string;
  let upstreamA: string;
  let upstreamB: string;

  /** Runs `vreg args...` without a shell; never throws on a non-zero exit. */
  function cli(args: string[], options: { stdin?: string; extraEnv?: Record<string, string> } = {}): Promise<CliRun> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, ...options.extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code: code ?? -1, stdout: stdout.trimEnd(), stderr: stderr.trimEnd() }));
      child.stdin.end(options.stdin ?? '');
    });
  }

  /** Runs `vreg args...` on a pseudo-terminal (util-linux `script`), as a person at a shell would: stdout and stderr together. */
  function cliOnTerminal(args: string[]): Promise<CliRun> {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    return new Promise((done, fail) => {
      const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code: code ?? -1, stdout, stderr: '' }));
      child.stdin.end();
    });
  }

  const json = <T>(run: CliRun): T => {
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    // No grace period, so objects a purge frees are GC's to report at once.
    vreg = await startEmbeddedUnderTest({ VREG_GC_GRACE_MS: '0' });
    configHome = await mkdtemp(join(tmpdir(), 'vreg-cli-home-'));
  });
  afterAll(async () => {
    await vreg?.stop();
    if (configHome !== undefined) await rm(configHome, { recursive: true, force: true });
  });

  it('logs in after checking the token, saves it readable only by its owner, and logs out', async () => {
    expect(await cli(['registries', 'list'])).toMatchObject({ code: 2, stderr: 'vreg: not logged in: run `vreg login --url URL` (or set VREG_URL and VREG_TOKEN)' });
    expect(await cli(['login', '--url', vreg.gatewayUrl, '--token-stdin'], { stdin: 'not-the-token\n' })).toMatchObject({ code: 1, stderr: 'vreg: UNAUTHORIZED: the admin token is not valid' });
    const file = join(configHome, 'vreg', 'config.json');
    await expect(stat(file)).rejects.toThrow();
    const login = await cli(['login', '--url', vreg.gatewayUrl, '--token-stdin'], { stdin: `${vreg.admin.token}\n` });
    expect(login).toMatchObject({ code: 0, stderr: `Logged in to ${vreg.gatewayUrl} (saved to ${file}).` });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: vreg.gatewayUrl, token: vreg.admin.token });
    expect(await cli(['registries', 'list', '--json'])).toMatchObject({ code: 0, stdout: '[]' });
    expect(await cli(['logout'])).toMatchObject({ code: 0, stderr: `Logged out of ${vreg.gatewayUrl} (removed ${file}).` });
    expect((await cli(['registries', 'list'])).code).toBe(2);
    expect((await cli(['login', '--url', vreg.gatewayUrl, '--token-stdin'], { stdin: vreg.admin.token })).code).toBe(0);
  });

  it('creates, shows and updates a registry, and names a missing one', async () => {
    const created = await cli(['registries', 'create', '--name', 'lifecycle', '--description', 'cli test']);
    expect(created.code, created.stderr).toBe(0);
    registry = /^Created private registry (\d+) "lifecycle"\.$/.exec(created.stdout)?.[1] as string;
    expect(registry).toMatch(/^\d+$/);
    expect(await cli(['registries', 'update', registry, '--visibility', 'public'])).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^Updated registry ${registry} "lifecycle": public, quota `)) });
    expect((await cli(['registries', 'show', registry])).stdout).toMatch(/^visibility: +public$/m);
    expect(await cli(['registries', 'show', '4242'])).toMatchObject({ code: 1, stderr: 'vreg: registry 4242 not found' });
    expect((await cli(['registries', 'list'])).stdout).toMatch(new RegExp(`^${registry} +lifecycle +public `, 'm'));
  });

  it('adds, reorders, moves and tests upstreams against the real registries', async () => {
    upstreamA = json<{ id: string }>(await cli(['upstreams', 'add', registry, '--name', 'a', '--url', env.upstreamA, '--json'])).id;
    upstreamB = json<{ id: string }>(await cli(['upstreams', 'add', registry, '--name', 'b', '--url', env.upstreamB, '--json'])).id;
    const order = async () => json<Array<{ name: string }>>(await cli(['upstreams', 'list', registry, '--json'])).map((u) => u.name);
    expect(await order()).toEqual(['a', 'b']);
    expect((await cli(['upstreams', 'reorder', registry, upstreamB, upstreamA])).code).toBe(0);
    expect(await order()).toEqual(['b', 'a']);
    const moved = await cli(['upstreams', 'move', upstreamA, '--position', '0']);
    expect(moved.code).toBe(0);
    expect(moved.stdout.split('\n').slice(1).map((line) => line.split(/ +/)[2])).toEqual(['a', 'b']);

    expect(await cli(['upstreams', 'test', upstreamA])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok \(HTTP 200\) in \d+ ms: /) });
    const candidate = json<{ success: boolean; result: string }>(await cli(['upstreams', 'test', '--url', env.upstreamB, '--json']));
    expect(candidate).toMatchObject({ success: true, result: 'ok' });
    // Port 9 (discard) on loopback: nothing listens, so the test fails and the command exits 1.
    const closed = await cli(['upstreams', 'test', '--url', 'http://127.0.0.1:9']);
    expect(closed.code).toBe(1);
    expect(closed.stdout).toMatch(/^unreachable in \d+ ms: /);
    expect(closed.stderr).toBe('vreg: http://127.0.0.1:9 did not pass the test: unreachable');
  });

  it('warms library/multiarch:latest with a progress bar redrawn on a terminal, to success', async () => {
    const run = await cliOnTerminal(['warm', registry, 'library/multiarch:latest']);
    expect(run.code, run.stdout).toBe(0);
    const frames = run.stdout.split('\r').filter((f) => f.startsWith('warm library/multiarch:latest'));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames.at(-1)).toMatch(/^warm library\/multiarch:latest succeeded \[#{24}\] (\d+)\/\1 objects {2}\S+ \S+(\/\S+ \S+)? {2}100%/);
    expect(run.stdout).toMatch(/Warmed library\/multiarch:latest in registry \d+: \d+ objects, /);
    // Recorded as a pull would: the tag, the index by digest, both platforms' manifests, their configs and layers.
    const paths = (await vreg.admin.cacheEntries(upstreamA)).map((e) => String(e.relative_path));
    expect(paths.filter((p) => p.startsWith('library/multiarch/manifests/'))).toHaveLength(4);
    expect(paths).toContain('library/multiarch/manifests/latest');
    expect(paths.filter((p) => p.startsWith('library/multiarch/blobs/'))).toHaveLength(4);
  });

  it('warms one platform with one line per change when not on a terminal, and fails an unknown tag with the job errors', async () => {
    const run = await cli(['warm', registry, 'library/multiarch:latest', '--platform', 'linux/arm64/v8']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('\r');
    const lines = run.stderr.split('\n');
    expect(lines.at(-1)).toMatch(/^warm library\/multiarch:latest succeeded: \d+\/\d+ objects, .*, 100%$/);
    expect(new Set(lines).size).toBe(lines.length);

    const missing = await cli(['warm', registry, 'library/multiarch:no-such-tag']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/vreg: warm job \d+ failed:\n {2}\S/);

    const jobs = json<Array<{ id: string; kind: string; state: string }>>(await cli(['jobs', 'list', '--kind', 'warm', '--registry', registry, '--json']));
    expect(jobs.map((j) => j.state)).toEqual(['failed', 'succeeded', 'succeeded']);
    const shown = await cli(['jobs', 'show', jobs[0]!.id]);
    expect(shown.stdout).toMatch(/^state: +failed$/m);
    expect(shown.stdout).toMatch(/^errors:\n {2}\S/m);
    expect(await cli(['jobs', 'wait', jobs[1]!.id, '--json'])).toMatchObject({ code: 0 });
    expect((await cli(['jobs', 'wait', jobs[0]!.id])).code).toBe(1);
  });

  it('pulls through the registry with skopeo, the CLI having set it up', async () => {
    const dir = await skopeoPull(env.skopeo, `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registry}/library/busybox:latest`);
    await rm(dir, { recursive: true, force: true });
    const entries = await vreg.admin.cacheEntries(upstreamA);
    expect(entries.some((e) => e.relative_path === 'library/busybox/manifests/latest')).toBe(true);
  });

  it('gc --dry-run waits for the gc job and prints its report, deleting nothing', async () => {
    const before = (await vreg.storedDigests()).sort();
    const run = await cli(['gc', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Dry run: \d+ objects? would be deleted, \S+ \S+ freed\.$/m);
    expect(run.stderr).toMatch(/^gc \(dry run\) succeeded: /m);
    const job = json<{ kind: string; state: string; result: { dry_run: boolean } }>(await cli(['gc', '--dry-run', '--json']));
    expect(job).toMatchObject({ kind: 'gc', state: 'succeeded', result: { dry_run: true } });
    expect((await vreg.storedDigests()).sort()).toEqual(before);
  });
});
