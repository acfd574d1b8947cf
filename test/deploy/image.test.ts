import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, startBundle, stopBundle } from './bundle.ts';
import { ROOT } from './deploy-tools.ts';

// The image without a Docker engine: the Dockerfile read as instructions,
// and the bundle it builds (`npm run build`) run the way its entry point runs.

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's stages; continuation lines joined, comments dropped. */
function dockerfileStages(): Stage[] {
  const text = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Z]+)\s+(.*)$/);
    if (!m) continue;
    const [, op = '', args = ''] = m;
    if (op === 'FROM') {
      const [from = '', , name] = args.trim().split(/\s+/);
      stages.push({ from, name, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args: args.trim() });
  }
  return stages;
}

const stages = dockerfileStages();
const runtime = stages.at(-1) as Stage;
const build = stages.find((s) => s.name === 'build') as Stage;
const argDefault = (name: string): string | undefined =>
  readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8').match(new RegExp(`^ARG ${name}=(\\S+)`, 'm'))?.[1];
const ops = (stage: Stage, op: string): string[] => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('the Dockerfile', () => {
  it('builds without a compiler (better-sqlite3 ships Node-API prebuilds) and runs on node 24 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(argDefault('NODE_IMAGE')).toMatch(/^node:24(\.\d+)*-(trixie-)?slim$/);
    expect(runtime.from).toBe('${NODE_IMAGE}');
    expect(ops(build, 'RUN').join('\n')).not.toMatch(/apt-get install/);
    expect(ops(build, 'RUN').join('\n')).toMatch(/npm ci/);
    expect(ops(build, 'RUN').join('\n')).toMatch(/npm run build/);
  });

  it('ships only the build output in the runtime image, without npm', () => {
    expect(ops(runtime, 'COPY')).toEqual(['--from=build /src/dist/ /app/']);
    expect(ops(runtime, 'RUN').join('\n')).toMatch(/rm -rf [^\n]*\/usr\/local\/lib\/node_modules\/npm/);
  });

  it('runs as uid 10001, owning only /data and /spool, with NODE_ENV=production', () => {
    expect(ops(runtime, 'USER')).toEqual(['10001:10001']);
    expect(ops(runtime, 'RUN').join('\n')).toMatch(/useradd [^\n]*--uid 10001/);
    expect(ops(runtime, 'RUN').join('\n')).toMatch(/chown 10001:10001 \/data \/spool/);
    expect(ops(runtime, 'ENV').join(' ')).toMatch(/NODE_ENV=production/);
    expect(ops(runtime, 'ENV').join(' ')).toMatch(/VREG_DATA_DIR=\/data/);
  });

  it('bounds the young generation and exposes the collector the fills scavenge with', () => {
    const options = ops(runtime, 'ENV')
      .join(' ')
      .match(/NODE_OPTIONS="([^"]*)"/)?.[1]
      ?.split(' ');
    expect(options).toContain('--max-semi-space-size=8');
    expect(options).toContain('--expose-gc');
  });

  it('chooses the process by command, and health-checks with node', () => {
    expect(ops(runtime, 'ENTRYPOINT')).toEqual(['["node", "--no-allocation-site-pretenuring", "/app/vreg.mjs"]']);
    expect(ops(runtime, 'CMD')).toEqual(['["embedded"]']);
    expect(ops(runtime, 'HEALTHCHECK').join()).toMatch(/CMD \["node", "\/app\/healthcheck.mjs"\]$/);
  });

  it('copies only paths that exist into the build', () => {
    for (const args of [...ops(build, 'COPY'), ...stages.flatMap((s) => ops(s, 'COPY'))]) {
      if (args.startsWith('--from')) continue;
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(existsSync(resolve(ROOT, source)), source).toBe(true);
    }
  });

  it('keeps secrets, dependencies and git out of the build context', () => {
    const ignored = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const pattern of ['**/.env', '**/*.env', '.git', '**/node_modules', 'dist', 'data']) expect(ignored).toContain(pattern);
    for (const needed of ['packages', 'services', 'src', 'deploy/build.mjs', 'deploy/docker', 'package.json', 'package-lock.json']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});

describe('the bundle the image runs', () => {
  let bundle: { dir: string; remove: () => Promise<void> };
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildBundle();
    dataDir = await mkdtemp(join(tmpdir(), 'vreg-embedded-data-'));
  }, 180_000);

  afterAll(async () => {
    await bundle?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('has an entry, a health check and a bundle per process, and no node_modules but the native addon', async () => {
    const files = await readdir(bundle.dir);
    for (const f of ['vreg.mjs', 'healthcheck.mjs', 'gateway.mjs', 'fetcher.mjs', 'catalog.mjs', 'embedded.mjs', 'package.json'])
      expect(files).toContain(f);
    expect((await readdir(join(bundle.dir, 'node_modules'))).sort()).toEqual(['better-sqlite3']);
    // The prebuilt Node-API addon for this platform only.
    expect(await readdir(join(bundle.dir, 'node_modules/better-sqlite3/prebuilds'))).toEqual([`${process.platform}-${process.arch}.node`]);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it('refuses an unknown command with its usage', async () => {
    const failure = await run(process.execPath, [join(bundle.dir, 'vreg.mjs'), 'registry']).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(64);
    expect(failure?.stderr).toContain('usage: vreg <gateway|fetcher|catalog|embedded>');
  });

  it('reports the config problems of a distributed process all at once and exits non-zero', async () => {
    const failure = await run(process.execPath, [join(bundle.dir, 'vreg.mjs'), 'catalog'], {
      env: { PATH: process.env.PATH ?? '', VREG_ADMIN_TOKEN: 'short' },
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain('VREG_ADMIN_TOKEN');
    expect(failure?.stderr).toContain('VREG_SECRET_KEY');
  });

  it('runs embedded mode: healthy by the image health check, serves the admin API and the console, and exits 0 on SIGTERM', async () => {
    const vreg = await startBundle(bundle.dir, 'embedded', {
      VREG_DATA_DIR: dataDir,
      VREG_ADMIN_TOKEN: 'bundle-test-admin-token-0123',
      VREG_LOG_LEVEL: 'warn',
    });
    try {
      await run(process.execPath, [join(bundle.dir, 'healthcheck.mjs')], {
        env: { PATH: process.env.PATH ?? '', VREG_LISTEN: vreg.listen },
      });
      const res = await fetch(`${vreg.url}/api/v1/registries`, {
        method: 'POST',
        headers: { authorization: 'Bearer bundle-test-admin-token-0123', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bundle' }),
      });
      expect(res.status).toBe(201);
      const v2 = await fetch(`${vreg.url}/v2/`);
      expect(v2.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      const consolePage = await fetch(`${vreg.url}/console/`);
      expect(consolePage.status).toBe(200);
      expect(await consolePage.text()).toContain('<div id="root">');
    } finally {
      expect(await stopBundle(vreg)).toBe(0);
    }
  });

  it('fails the health check when nothing answers', async () => {
    const failure = await run(process.execPath, [join(bundle.dir, 'healthcheck.mjs')], {
      env: { PATH: process.env.PATH ?? '', VREG_LISTEN: '127.0.0.1:9' },
    }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    expect(failure).toBe(1);
  });
});
