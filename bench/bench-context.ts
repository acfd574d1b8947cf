import { performance } from 'node:perf_hooks';
import { ensureHugeImage } from './huge-image.ts';
import { type ImageShape, PullClient } from './pull-client.ts';
import type { PullTarget } from './pull-target.ts';
import { startReferenceRegistry } from './reference-registry.ts';
import type { ResultsTable } from './results-table.ts';
import { startDistributedVreg, startEmbeddedVreg } from './vreg-targets.ts';

/** The seeded image every pull scenario uses (scripts/test-env/seed.mjs). */
export const BIG_IMAGE = { name: 'library/bigimage', tag: 'v1' } as const;

/** Images pulled once into a fresh target before timing, so JIT and connection set-up are not in a cold pull; they share no blob with BIG_IMAGE. */
export const WARM_UP_IMAGES = [
  { name: 'library/busybox', tag: 'latest' },
  { name: 'team/app/api', tag: '1.0' },
] as const;

/** Per target label: cached-blob throughput (MB/s) and manifest p99 (ms), both at 50 connections (wrk). */
export interface ChartData {
  throughput: Array<{ target: string; mbps: number }>;
  manifestP99: Array<{ target: string; ms: number }>;
}

/** What every scenario gets from bench/run.ts. */
export interface BenchContext {
  /** Upstream A of the test env. */
  upstreamUrl: string;
  /** BIG_IMAGE's manifest digest and blobs, read directly from upstream A. */
  bigImage: ImageShape;
  table: ResultsTable;
  /** Concurrent clients of the 50-client scenarios. */
  clients: number;
  /** Runs whose median a timed figure is (cold pull time, warm throughput). */
  rounds: number;
  /** Directory for `--cpu-prof` output of vreg processes, when profiling. */
  cpuProfDir: string | undefined;
  log(message: string): void;
  /** Figures the chart of docs/benchmarks.md is drawn from, filled by the scenarios that measure them. */
  chart: ChartData;
  /** Embedded vreg; `workers` sets VREG_WORKERS (default: vreg's own default, or VREG_BENCH_WORKERS). */
  startVreg(upstreamUrl: string, options?: { workers?: number | 'auto'; env?: Record<string, string> }): Promise<PullTarget>;
  startVregDistributed(upstreamUrl: string, gateways: number): Promise<PullTarget>;
  startDistribution(upstreamUrl: string): Promise<PullTarget>;
}

/**
 * The context's process starters. They log every pid (so a profile file can
 * be matched to its scenario) and keep each target in `live` until it is
 * stopped, so a scenario that overruns its time limit can be stopped from
 * outside.
 */
export function targetStarters(
  log: (m: string) => void,
  cpuProfDir: string | undefined,
  scenario: () => string,
  live: Set<PullTarget>,
): Pick<BenchContext, 'startVreg' | 'startVregDistributed' | 'startDistribution'> {
  const tracked = async (start: Promise<PullTarget>): Promise<PullTarget> => {
    const target = await start;
    log(`  started ${target.label} for "${scenario()}" (pid ${target.pids.join(', ')})`);
    const { stop, restart } = target;
    const wrapped: PullTarget = {
      ...target,
      stop: async () => {
        live.delete(wrapped);
        await stop();
      },
      ...(restart
        ? {
            restart: async () => {
              live.delete(wrapped);
              return tracked(restart());
            },
          }
        : {}),
    };
    live.add(wrapped);
    return wrapped;
  };
  const prof = cpuProfDir ? { cpuProfDir } : {};
  return {
    startVreg: (upstreamUrl, options) => tracked(startEmbeddedVreg({ upstreamUrl, ...prof, ...options })),
    startVregDistributed: (upstreamUrl, gateways) => tracked(startDistributedVreg({ upstreamUrl, gateways, ...prof })),
    startDistribution: (upstreamUrl) => tracked(startReferenceRegistry(upstreamUrl)),
  };
}

/** Milliseconds `fn` took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/**
 * Runs `fn` with a time limit. Past `limitMs`, `onTimeout` runs (it stops
 * the scenario's processes, which fails whatever requests are still
 * running), the scenario gets up to 30 s more to unwind, and the returned
 * promise rejects: no scenario can hang the bench or overlap the next one.
 */
export async function bounded<T>(what: string, limitMs: number, fn: () => Promise<T>, onTimeout: () => Promise<void>): Promise<T> {
  const running = fn();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((r) => {
    timer = setTimeout(() => r('expired'), limitMs);
  });
  try {
    const first = await Promise.race([running, expired]);
    if (first !== 'expired') return first as T;
  } finally {
    clearTimeout(timer);
  }
  await onTimeout();
  await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000))]);
  throw new Error(`${what} did not finish within ${limitMs / 1000} s and was stopped`);
}

/** Stops every target, ignoring errors (called from `finally`). */
export async function stopAll(targets: Array<PullTarget | undefined>): Promise<void> {
  for (const t of targets) await t?.stop().catch(() => undefined);
}

/**
 * Bench-only images, one per process that may serve a target (VREG_WORKERS
 * is at most 8, distributed vreg has two gateways): a distinct 16 MiB layer
 * each, so every serving process fills one of its own before a timed pull.
 * 16 MiB (256 chunks of 64 KiB) and not less: after 4 MiB, two workers
 * still spent about 150 ms more CPU between them on a cold 100 MiB copy
 * (bench/scenarios/cold-copy-time.ts), their per-chunk path not yet
 * optimized by V8, as a process that has served for a while has long had it.
 */
const PROCESS_WARM_UP = { name: (i: number) => `bench/warm-up-${i}`, tag: 'v1', count: 8, bytes: 16 * 1024 * 1024 } as const;

/** Pushes the per-process warm-up images into upstream A where they are missing (once; later runs find them). */
export async function ensureWarmUpImages(upstreamUrl: string): Promise<void> {
  for (let i = 0; i < PROCESS_WARM_UP.count; i++)
    await ensureHugeImage(upstreamUrl, PROCESS_WARM_UP.name(i), PROCESS_WARM_UP.tag, PROCESS_WARM_UP.bytes + i);
}

/**
 * Warms every process that serves `target`, then `client`'s connections:
 * each serving process fills a warm-up image of its own over a connection of
 * its own (node:cluster hands each new connection to the next worker), so
 * whichever worker a timed pull lands on has its JIT, its upstream
 * connection and its miss path warm, not only the one the client's
 * connection happened to reach. Then `client` pulls the small warm-up
 * images through every base. Needs ensureWarmUpImages first.
 */
export async function warmUp(client: PullClient, target: PullTarget): Promise<void> {
  // Serving processes behind each base: a primary's workers share one, each distributed gateway has its own.
  const perBase = Math.max(1, Math.floor((target.servingPids?.length ?? target.bases.length) / target.bases.length));
  let next = 0;
  for (const base of target.bases)
    for (let i = 0; i < perBase && next < PROCESS_WARM_UP.count; i++) {
      const fresh = new PullClient(1);
      try {
        await fresh.pullImage(base, PROCESS_WARM_UP.name(next++), PROCESS_WARM_UP.tag, { verify: true });
      } finally {
        fresh.close();
      }
    }
  for (const base of target.bases)
    for (const image of WARM_UP_IMAGES) await client.pullImage(base, image.name, image.tag, { verify: true });
}
