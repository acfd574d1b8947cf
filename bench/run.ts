// `npm run bench` (scripts/bench.sh starts the test env, then runs this):
// every scenario against vreg and the reference registry in one run, one
// markdown table printed and written to bench/results/latest.md and, with
// its chart (docs/benchmarks.svg), to docs/benchmarks.md.
//
//   VREG_BENCH_ONLY=coalescing,cold,copy,wrk,warm,rss   run only these scenarios
//                                              (docs/ is written only by a run of all of them)
//   VREG_BENCH_ROUNDS=3                        rounds of the cold pull time (median)
//   VREG_BENCH_CLIENTS=50                      concurrent clients
//   VREG_BENCH_HUGE_MB=200                     size of the big blob (MiB)
//   VREG_BENCH_CPU_PROF=<dir>                  run vreg with --cpu-prof, profiles there
//   VREG_BENCH_BUNDLE=<dir>                    run embedded vreg from `npm run build` output
//                                              (node <dir>/vreg.mjs embedded) instead of tsx
//   VREG_BENCH_WORKERS=<n|auto>                VREG_WORKERS of embedded vreg (default: vreg's own, auto)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type BenchContext, BIG_IMAGE, bounded, type ChartData, ensureWarmUpImages, stopAll, targetStarters } from './bench-context.ts';
import { imageShape, PullClient } from './pull-client.ts';
import type { PullTarget } from './pull-target.ts';
import { benchmarksMarkdown, chartSvg } from './report.ts';
import { ResultsTable } from './results-table.ts';
import { coldCoalescing } from './scenarios/cold-coalescing.ts';
import { coldCopyTime } from './scenarios/cold-copy-time.ts';
import { coldPullTime } from './scenarios/cold-pull-time.ts';
import { hugeBlobRss } from './scenarios/huge-blob-rss.ts';
import { warmServing } from './scenarios/warm-serving.ts';
import { wrkServing } from './scenarios/wrk-serving.ts';
import { wrkVersion } from './wrk.ts';

const t0 = performance.now();
const startLoad = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const upstreamUrl = process.env.VREG_TEST_UPSTREAM_URL;
if (!upstreamUrl) {
  console.error('VREG_TEST_UPSTREAM_URL is not set: run `npm run bench` (scripts/bench.sh starts and seeds the servers)');
  process.exit(2);
}
const KEYS = ['coalescing', 'cold', 'copy', 'wrk', 'warm', 'rss'];
const only = new Set((process.env.VREG_BENCH_ONLY ?? KEYS.join(',')).split(',').map((s) => s.trim()));
const unknown = [...only].filter((k) => !KEYS.includes(k));
if (unknown.length) {
  console.error(`VREG_BENCH_ONLY: unknown scenario ${unknown.join(', ')} (known: ${KEYS.join(', ')})`);
  process.exit(2);
}
const number = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const cpuProfDir = process.env.VREG_BENCH_CPU_PROF ? resolve(process.env.VREG_BENCH_CPU_PROF) : undefined;
const log = (m: string): void => void process.stderr.write(`${m}\n`);

let current = '';
const live = new Set<PullTarget>();
const table = new ResultsTable();
const shapeClient = new PullClient(1);
const manifest = await shapeClient.manifest(`${upstreamUrl}/v2`, BIG_IMAGE.name, BIG_IMAGE.tag);
await ensureWarmUpImages(upstreamUrl);
shapeClient.close();
const wrk = await wrkVersion();
if (only.has('wrk') && !wrk) {
  console.error('wrk is not installed: scripts/test-env/install.sh installs it (Debian package wrk)');
  process.exit(2);
}
const chart: ChartData = { throughput: [], manifestP99: [] };
const ctx: BenchContext = {
  upstreamUrl,
  chart,
  bigImage: imageShape(manifest.digest, manifest.body),
  table,
  clients: number('VREG_BENCH_CLIENTS', 50),
  rounds: number('VREG_BENCH_ROUNDS', 3),
  cpuProfDir,
  log,
  ...targetStarters(log, cpuProfDir, () => current, live),
};

const scenarios: Array<{ key: string; name: string; limitMs: number; target: string; run: () => Promise<void> }> = [
  {
    key: 'coalescing',
    name: `${ctx.clients} concurrent cold pulls`,
    limitMs: 180_000,
    target: 'exactly 1',
    run: () => coldCoalescing(ctx),
  },
  { key: 'cold', name: 'cold pull time', limitMs: 90_000, target: '≤ 1.10 × direct', run: () => coldPullTime(ctx) },
  { key: 'copy', name: 'cold skopeo copy time', limitMs: 150_000, target: '≤ 1.10 × direct', run: () => coldCopyTime(ctx) },
  {
    key: 'wrk',
    name: 'hits and manifests at 50 connections (wrk)',
    limitMs: 300_000,
    target: '≥ 1.2 × distribution; p99 ≤ 100 ms',
    run: () => wrkServing(ctx),
  },
  {
    key: 'warm',
    name: 'warm throughput and manifest latency',
    limitMs: 200_000,
    target: '—',
    run: () => warmServing(ctx),
  },
  {
    key: 'rss',
    name: 'peak RSS with huge blobs',
    limitMs: 180_000,
    target: '≤ 200 MB',
    run: () => hugeBlobRss(ctx, number('VREG_BENCH_HUGE_MB', 200)),
  },
];

let failures = 0;
for (const s of scenarios.filter((x) => only.has(x.key))) {
  current = s.name;
  const started = performance.now();
  log(`==> ${s.name}`);
  try {
    await bounded(
      s.name,
      s.limitMs,
      () => s.run(),
      () => stopAll([...live]),
    );
  } catch (err) {
    failures += 1;
    log(`  failed: ${(err as Error).stack ?? String(err)}`);
    table.failed(s.name, s.target, err);
  }
  // Whatever a failed scenario left running.
  await stopAll([...live]);
  log(`<== ${s.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const distributionVersion = (): string => {
  try {
    return execFileSync(process.env.VREG_TEST_REGISTRY_BIN ?? 'docker-registry', ['--version'], { encoding: 'utf8' })
      .trim()
      .split(' ')
      .slice(1)
      .join(' ');
  } catch {
    return 'unknown version';
  }
};
table.note(
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; distribution ${distributionVersion()}; ${wrk ?? 'wrk not installed'}; everything on 127.0.0.1. Load average when the bench started: ${startLoad}, when it ended: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other processes on the machine share its cores).`,
);
table.note(
  'The load generators (wrk, a C program, for hits and manifests at 50 connections; this node process, hashing what it verifies, for the pull scenarios) share the same cores with the registry under test, the upstream registry and, for two gateways, NATS, FerretDB and moto: absolute figures are lower bounds, ratios are the point.',
);
table.note(
  `vreg embedded = \`${process.env.VREG_BENCH_BUNDLE ? 'node dist/vreg.mjs embedded' : 'node --import tsx src/main.ts'}\` (fresh data dir per scenario) with VREG_WORKERS=${process.env.VREG_BENCH_WORKERS ?? 'auto (its default)'}: a primary (catalog, fetcher, bus, leases) and worker processes serving the pull API, unless one process is asked for; vreg distributed = catalog, fetcher and two gateway processes (one worker each) on the test env's NATS, FerretDB and moto; distribution = \`docker-registry serve\` with \`proxy.remoteurl\` = upstream A, fresh storage dir. MB = 10^6 bytes.`,
);
if (process.env.VREG_BENCH_BUNDLE)
  table.note(
    'vreg embedded ran from the bundle (`npm run build`), as the image runs it, not through tsx; the distributed targets run through tsx.',
  );
if (cpuProfDir)
  table.note(
    `vreg ran with --cpu-prof; profiles in ${cpuProfDir} (pids in the log above). Summarise: npx tsx bench/cpu-profile-top.ts <file>.`,
  );
table.note(`Total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s (${new Date().toISOString()}).`);

const markdown = table.markdown('vreg bench: vreg vs the CNCF distribution registry (pull-through proxy)');
const resultsDir = resolve(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.md'), markdown);
const written = ['bench/results/latest.md'];
// docs/ shows a whole run: a partial one (VREG_BENCH_ONLY) leaves it as it was.
if (KEYS.every((k) => only.has(k))) {
  const docs = resolve(import.meta.dirname, '../docs');
  const drawn = chart.throughput.length > 0;
  if (drawn)
    writeFileSync(
      join(docs, 'benchmarks.svg'),
      chartSvg(
        chart,
        `npm run bench, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}`,
      ),
    );
  writeFileSync(join(docs, 'benchmarks.md'), benchmarksMarkdown(markdown, { chart: drawn, command: 'npm run bench' }));
  written.push('docs/benchmarks.md', ...(drawn ? ['docs/benchmarks.svg'] : []));
}
process.stdout.write(`\n${markdown}\nwritten to ${written.join(', ')}\n`);
process.exit(failures ? 1 : 0);
