import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

const BIN = resolve(import.meta.dirname, '../bin/vreg.mjs');

/** A cache entry as `vreg entries list --json` prints it. */
interface Entry {
  id: string;
  upstream_id: string;
  relative_path: string;
  size: number;
  status: string;
}

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
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, ...options.extraEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
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
      const child = spawn('script', ['-qefc', command, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, TERM: 'dumb' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
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
    expect(await cli(['registries', 'list'])).toMatchObject({
      code: 2,
      stderr: 'vreg: not logged in: run `vreg login --url URL` (or set VREG_URL and VREG_TOKEN)',
    });
    expect(await cli(['login', '--url', vreg.gatewayUrl, '--token-stdin'], { stdin: 'not-the-token\n' })).toMatchObject({
      code: 1,
      stderr: 'vreg: UNAUTHORIZED: the admin token is not valid',
    });
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
    expect(await cli(['registries', 'update', registry, '--visibility', 'public'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^Updated registry ${registry} "lifecycle": public, quota `)),
    });
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
    expect(
      moved.stdout
        .split('\n')
        .slice(1)
        .map((line) => line.split(/ +/)[2]),
    ).toEqual(['a', 'b']);
    expect((await cli(['registries', 'show', registry])).stdout).toMatch(
      new RegExp(
        `\\n\\nPOS +ID +NAME +URL +USERNAME +PASSWORD +VALIDITY\\n0 +${upstreamA} +a +${env.upstreamA} +- +- +\\d+h\\n1 +${upstreamB} +b `,
      ),
    );

    expect(await cli(['upstreams', 'test', upstreamA])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^ok \(HTTP 200\) in \d+ ms: /),
    });
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

    const jobs = json<Array<{ id: string; kind: string; state: string }>>(
      await cli(['jobs', 'list', '--kind', 'warm', '--registry', registry, '--json']),
    );
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
    // A pull's entries are recorded by the catalog's consumer, just after the bytes went out.
    await waitFor('the busybox pull recorded', async () =>
      (await vreg.admin.cacheEntries(upstreamA)).filter((e) => String(e.relative_path).startsWith('library/busybox/')).length >= 3
        ? true
        : undefined,
    );
  });

  const entriesOf = async (...extra: string[]): Promise<Entry[]> =>
    json<Entry[]>(await cli(['entries', 'list', registry, ...extra, '--json']));
  const livePaths = async (): Promise<string[]> => (await entriesOf()).filter((e) => e.status === 'default').map((e) => e.relative_path);

  it("lists the registry's cache entries searched and sorted, and deletes one through its purge job", async () => {
    const all = await entriesOf();
    expect(all.map((e) => e.relative_path)).toContain('library/busybox/manifests/latest');
    expect(all.some((e) => e.relative_path.startsWith('library/multiarch/'))).toBe(true);
    const busybox = await entriesOf('--search', 'busybox');
    expect(busybox.length).toBeGreaterThanOrEqual(3);
    expect(busybox.every((e) => e.relative_path.includes('busybox'))).toBe(true);
    const sizes = (await entriesOf('--sort=-size')).map((e) => e.size);
    expect(sizes).toEqual([...sizes].sort((x, y) => y - x));
    const table = await cli(['entries', 'list', registry, '--search', 'busybox', '--sort', 'relative_path']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +UPSTREAM +PATH +SIZE +DOWNLOADS +LAST DOWNLOAD +STATUS$/);
    expect(table.stdout).toMatch(/ library\/busybox\/manifests\/latest +\d+(\.\d)? (B|KiB|MiB) +\d+ +\S+ +default$/m);

    const tag = busybox.find((e) => e.relative_path === 'library/busybox/manifests/latest') as Entry;
    const deleted = await cli(['entries', 'delete', tag.id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toMatch(/^purge entry succeeded: /m);
    expect(await livePaths()).not.toContain('library/busybox/manifests/latest');
    expect(await cli(['entries', 'delete', tag.id.replace(/-.*/, '-bm8tc3VjaC1lbnRyeQ')])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^vreg: cache entry \S+ not found$/),
    });
  });

  it('reports usage by upstream, and sets and removes a quota', async () => {
    type Usage = {
      stored_bytes: number;
      entries_count: number;
      quota_bytes: number | null;
      upstreams: Array<{ upstream_id: string; stored_bytes: number; entries_count: number }>;
    };
    const usage = json<Usage>(await cli(['usage', registry, '--json']));
    expect(usage.stored_bytes).toBeGreaterThan(0);
    expect(usage.quota_bytes).toBeNull();
    expect(usage.upstreams.map((u) => u.upstream_id).sort()).toEqual([upstreamA, upstreamB].sort());
    expect(usage.upstreams.reduce((n, u) => n + u.entries_count, 0)).toBe(usage.entries_count);
    expect((await cli(['usage', registry])).stdout).toMatch(
      new RegExp(`^Registry ${registry}: \\S+ \\S+ in ${usage.entries_count} entries, no quota\\.\n\nUPSTREAM +NAME +STORED +ENTRIES\n`),
    );

    expect(await cli(['registries', 'update', registry, '--max-stored-bytes', '1GiB'])).toMatchObject({
      code: 0,
      stdout: `Updated registry ${registry} "lifecycle": public, quota 1.0 GiB.`,
    });
    expect(json<Usage>(await cli(['usage', registry, '--json'])).quota_bytes).toBe(1024 ** 3);
    expect((await cli(['usage', registry])).stdout).toMatch(/, of 1\.0 GiB quota \(\d+%\)\./);
    expect((await cli(['registries', 'show', registry])).stdout).toMatch(/^quota: +1\.0 GiB$/m);
    expect(await cli(['registries', 'update', registry, '--max-stored-bytes', 'none'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('quota none'),
    });
  });

  it('sets a cleanup policy, runs it, and shows what it deleted', async () => {
    expect(await cli(['cleanup', 'show', registry])).toMatchObject({
      code: 0,
      stdout: `Registry ${registry} has no cleanup policy (vreg cleanup set ${registry} --keep-days N).`,
    });
    // Three days without a download for busybox's entries, written into the catalog file as the clock would have.
    const db = new Database(join(vreg.dataDir, 'catalog.sqlite'));
    const past = new Date(Date.now() - 3 * 86_400_000).toISOString();
    let aged: number;
    try {
      aged = db
        .prepare(
          "UPDATE cache_entries SET downloaded_at = ?, created_at = ? WHERE registry_id = ? AND relative_path LIKE 'library/busybox/%' AND status = 'default'",
        )
        .run(past, past, Number(registry)).changes;
    } finally {
      db.close();
    }
    expect(aged).toBeGreaterThanOrEqual(2);

    const set = await cli(['cleanup', 'set', registry, '--keep-days', '1', '--cadence', '7']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^enabled: +yes$/m);
    expect(set.stdout).toMatch(/^keep: +1 days after the last download$/m);
    expect(set.stdout).toMatch(/^cadence: +every 7 days$/m);

    const run = await cli(['cleanup', 'run', registry]);
    expect(run.code, run.stderr).toBe(0);
    const [job] = json<Array<{ state: string; result: Record<string, unknown> }>>(
      await cli(['jobs', 'list', '--kind', 'cleanup', '--registry', registry, '--json']),
    );
    expect(job).toMatchObject({ state: 'succeeded', result: { deleted_entries_count: aged } });
    expect(run.stdout).toMatch(new RegExp(`^Cleanup deleted ${aged} entries \\(\\S+ \\S+\\), not downloaded since \\S+\\.$`));
    expect((await livePaths()).some((p) => p.startsWith('library/busybox/'))).toBe(false);
    expect((await livePaths()).some((p) => p.startsWith('library/multiarch/'))).toBe(true);

    const runs = await cli(['cleanup', 'runs', registry]);
    expect(runs.stdout).toMatch(new RegExp(`^\\d+ +\\d+ +\\S+ +\\S+ +1 +${aged} +\\S+ \\S+ +succeeded$`, 'm'));
    expect((await cli(['cleanup', 'show', registry])).stdout).toMatch(new RegExp(`^last run: +\\S+: ${aged} entries, `, 'm'));
    expect((await cli(['cleanup', 'disable', registry])).stdout).toMatch(/^enabled: +no$/m);
  });

  it('purges a tag, then an image, then an upstream, each through its job', async () => {
    const tag = await cli(['purge', 'registry', registry, '--image', 'library/multiarch', '--tag', 'latest']);
    expect(tag.code, tag.stderr).toBe(0);
    expect(tag.stderr).toMatch(/^purge library\/multiarch:latest in registry \d+ succeeded: /m);
    expect(tag.stdout).toMatch(/^Purged 1 entry \(\S+ \S+\); they are never served again and GC frees their objects\.$/);
    let live = await livePaths();
    expect(live).not.toContain('library/multiarch/manifests/latest');
    expect(live.some((p) => p.startsWith('library/multiarch/manifests/sha256:'))).toBe(true);

    expect((await cli(['purge', 'registry', registry, '--image', 'library/multiarch'])).code).toBe(0);
    live = await livePaths();
    expect(live.some((p) => p.startsWith('library/multiarch/'))).toBe(false);

    const purged = json<{ kind: string; state: string }>(await cli(['purge', 'upstream', upstreamA, '--json']));
    expect(purged).toMatchObject({ kind: 'purge', state: 'succeeded' });
    expect(await livePaths()).toEqual([]);
    expect(await cli(['purge', 'upstream', '4242'])).toMatchObject({ code: 1, stderr: 'vreg: upstream 4242 not found' });
  });

  it('gc --dry-run reports the objects the purges left unreferenced, deleting nothing; gc then deletes them', async () => {
    const before = (await vreg.storedDigests()).sort();
    const run = await cli(['gc', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^gc \(dry run\) succeeded: /m);
    const would = Number(/^Dry run: (\d+) objects? would be deleted, freeing \S+ \S+\.$/m.exec(run.stdout)?.[1]);
    // Everything was purged (and GC has no grace period here): every stored object is garbage.
    expect(would).toBe(before.length);
    for (const digest of before.slice(0, 100)) expect(run.stdout).toContain(`  ${digest}`);
    const job = json<{ kind: string; state: string; result: { dry_run: boolean } }>(await cli(['gc', '--dry-run', '--json']));
    expect(job).toMatchObject({ kind: 'gc', state: 'succeeded', result: { dry_run: true } });
    expect((await vreg.storedDigests()).sort()).toEqual(before);

    const real = await cli(['gc']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout.split('\n')[0]).toMatch(new RegExp(`^Deleted ${before.length} objects, freed \\S+ \\S+\\.$`));
    expect(await vreg.storedDigests()).toEqual([]);
  });

  it('updates and removes an upstream, deletes the cleanup policy and the registry', async () => {
    expect(await cli(['upstreams', 'update', upstreamB, '--name', 'b2', '--cache-validity-hours', '1'])).toMatchObject({
      code: 0,
      stdout: `Updated upstream ${upstreamB} "b2" (${env.upstreamB}), position 1.`,
    });
    expect(await cli(['upstreams', 'remove', upstreamB, '--json'])).toMatchObject({
      code: 0,
      stdout: JSON.stringify({ id: upstreamB, deleted: true }),
    });
    expect(json<unknown[]>(await cli(['upstreams', 'list', registry, '--json']))).toHaveLength(1);
    expect(await cli(['cleanup', 'delete', registry])).toMatchObject({
      code: 0,
      stderr: `Deleted the cleanup policy of registry ${registry} (its runs stay listed).`,
    });
    expect(await cli(['cleanup', 'run', registry])).toMatchObject({
      code: 1,
      stderr: `vreg: registry ${registry} has no cleanup policy (vreg cleanup set ${registry} --keep-days N)`,
    });
    expect(await cli(['registries', 'delete', registry])).toMatchObject({
      code: 0,
      stderr: `Deleted registry ${registry} with its upstreams and cache entries.`,
    });
    expect(await cli(['usage', registry])).toMatchObject({ code: 1, stderr: `vreg: registry ${registry} not found` });
    expect(await cli(['upstreams', 'lsit', registry])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^vreg: unknown upstreams command "lsit"/),
    });
  });
});
