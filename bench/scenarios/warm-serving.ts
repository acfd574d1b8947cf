import { performance } from 'node:perf_hooks';
import { startBareServer } from '../bare-server.ts';
import { type BenchContext, BIG_IMAGE, stopAll, warmUp } from '../bench-context.ts';
import { type OpenLoopResult, openLoop } from '../open-loop.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { fmt, ratioText } from '../results-table.ts';
import { totalCpuMs, waitForIdle } from '../rss-sampler.ts';
import { median } from '../stats.ts';

const THROUGHPUT_LIMIT_MS = 20_000;
const MANIFEST_RATE = 1_000;
const MANIFEST_SECONDS = 5;
const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';

/**
 * One throughput run: `clients` clients, each with one connection, pull
 * BIG_IMAGE from a warm cache (one pull each, five for a lone client so the
 * run is long enough to time), byte counts checked, not hashed: the priming
 * pull verified the bytes, and hashing here would make the load generator
 * the bottleneck. MB/s (10^6 bytes) over the run's wall time.
 */
async function throughput(target: PullTarget, clients: number): Promise<{ mbps: number; cpuSecPerGb: number }> {
  const pulls = Math.max(1, Math.ceil(5 / clients));
  const deadline = Date.now() + THROUGHPUT_LIMIT_MS;
  let bytes = 0;
  const cpu0 = totalCpuMs(target.pids);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const client = new PullClient(1);
      try {
        for (let k = 0; k < pulls && Date.now() < deadline; k++) {
          // Not `bytes += await ...`: that reads `bytes` before the await and drops the other clients' bytes.
          const got = await client.pullImage(target.bases[i % target.bases.length]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: false });
          bytes += got;
        }
      } finally {
        client.close();
      }
    }),
  );
  return { mbps: bytes / 1e6 / ((performance.now() - t0) / 1000), cpuSecPerGb: (totalCpuMs(target.pids) - cpu0) / 1000 / (bytes / 1e9) };
}

type Latency = OpenLoopResult & { cpuMsPerRequest: number };

/**
 * GETs of one manifest at a fixed rate (open loop) through one keep-alive
 * agent of 64 sockets, after 500 unmeasured ones, with the CPU time the
 * serving process spent per answered request (less sensitive to whatever
 * else the machine runs than the latency itself).
 */
async function manifestLatency(target: PullTarget, reference: string): Promise<Latency> {
  const client = new PullClient(64);
  const url = `${target.bases[0]}/${BIG_IMAGE.name}/manifests/${reference}`;
  const send = (): Promise<unknown> => client.get(url, { accept: ACCEPT });
  try {
    await waitForIdle(target.pids, 3_000);
    await openLoop(send, MANIFEST_RATE, 500, 1_000);
    const cpu0 = totalCpuMs(target.pids);
    const result = await openLoop(send, MANIFEST_RATE, MANIFEST_SECONDS * 1000, 1_000);
    return { ...result, cpuMsPerRequest: (totalCpuMs(target.pids) - cpu0) / Math.max(1, result.completed) };
  } finally {
    client.close();
    // A registry that fell behind keeps working off its backlog: let it finish before anything else is timed.
    await waitForIdle(target.pids, 3_000);
  }
}

/** The machine's and the load generator's own floor: the same open loop against a bare node http server. */
async function manifestFloor(ctx: BenchContext): Promise<Latency> {
  const probe = new PullClient(1);
  const manifest = await probe.manifest(`${ctx.upstreamUrl}/v2`, BIG_IMAGE.name, BIG_IMAGE.tag).finally(() => probe.close());
  const bare = await startBareServer({ ...manifest, contentType: 'application/vnd.docker.distribution.manifest.v2+json' });
  try {
    return await manifestLatency(bare, BIG_IMAGE.tag);
  } finally {
    await bare.stop();
  }
}

/**
 * Rows 3 and 4, on one vreg (embedded) and one distribution, both started
 * fresh and warmed with one verified pull of BIG_IMAGE: warm throughput at
 * 1, 10 and `clients` concurrent clients (median of `rounds` runs each,
 * alternating which goes first; upstream A served directly as a reference),
 * then manifest hit latency by tag and by digest at 1,000 requests/s.
 */
export async function warmServing(ctx: BenchContext): Promise<void> {
  let vreg: PullTarget | undefined;
  let distribution: PullTarget | undefined;
  const prime = new PullClient(4);
  try {
    vreg = await ctx.startVreg(ctx.upstreamUrl);
    distribution = await ctx.startDistribution(ctx.upstreamUrl);
    const direct = directTarget(ctx.upstreamUrl);
    for (const t of [vreg, distribution, direct]) {
      await warmUp(prime, t);
      await prime.pullImage(t.bases[0]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: true, parallelBlobs: 3 });
    }

    for (const clients of [1, 10, ctx.clients]) {
      const runs = { vreg: [] as number[], distribution: [] as number[], direct: [] as number[] };
      const cpu = { vreg: [] as number[], distribution: [] as number[], direct: [] as number[] };
      for (let round = 0; round < ctx.rounds; round++) {
        // Alternating who goes first; upstream A directly, as a reference, in the first round only.
        const order = round % 2 ? (['distribution', 'vreg'] as const) : (['vreg', 'distribution', 'direct'] as const);
        for (const who of order) {
          const run = await throughput(who === 'vreg' ? vreg : who === 'distribution' ? distribution : direct, clients);
          runs[who].push(run.mbps);
          cpu[who].push(run.cpuSecPerGb);
        }
      }
      const [v, d, up] = [median(runs.vreg), median(runs.distribution), median(runs.direct)];
      ctx.log(
        `  warm throughput, ${clients} clients (MB/s per round): vreg ${runs.vreg.map((x) => x.toFixed(0))}, distribution ${runs.distribution.map((x) => x.toFixed(0))}, direct ${runs.direct.map((x) => x.toFixed(0))}`,
      );
      ctx.table.note(
        `warm throughput, ${clients} clients: CPU per GB served (median): vreg ${median(cpu.vreg).toFixed(2)} s, distribution ${median(cpu.distribution).toFixed(2)} s; MB/s per run: vreg ${runs.vreg.map((x) => x.toFixed(0)).join('/')}, distribution ${runs.distribution.map((x) => x.toFixed(0)).join('/')}.`,
      );
      ctx.table.add({
        scenario: `warm throughput, ${clients} concurrent client${clients === 1 ? '' : 's'} (median of ${ctx.rounds}); direct from upstream, one run: ${up.toFixed(0)} MB/s`,
        vreg: `${v.toFixed(0)} MB/s`,
        distribution: `${d.toFixed(0)} MB/s`,
        ratio: `${ratioText(v, d, 'vreg/distribution')}; ${ratioText(v, up, 'vreg/direct')}`,
        // The target is the wrk row's: this client (one node event loop) caps what it can measure.
        target: '—',
        measured: v / d,
        goal: { kind: 'none' },
      });
    }

    const floor = await manifestFloor(ctx);
    // One target at a time, each left to go idle after its run (in manifestLatency).
    const vTag = await manifestLatency(vreg, BIG_IMAGE.tag);
    const vDigest = await manifestLatency(vreg, ctx.bigImage.manifestDigest);
    const dTag = await manifestLatency(distribution, BIG_IMAGE.tag);
    const dDigest = await manifestLatency(distribution, ctx.bigImage.manifestDigest);
    for (const [kind, v, d] of [
      ['tag', vTag, dTag],
      ['digest', vDigest, dDigest],
    ] as const) {
      ctx.log(`  manifest by ${kind}: vreg ${JSON.stringify(v)}; distribution ${JSON.stringify(d)}`);
      const cell = (r: Latency): string =>
        `p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms${r.errors ? ` (${r.errors} of ${r.scheduled} failed)` : ''}`;
      ctx.table.add({
        scenario: `manifest hit latency by ${kind}, ${MANIFEST_RATE} req/s open loop for ${MANIFEST_SECONDS} s; floor p50 ${fmt(floor.p50Ms)} ms, p99 ${fmt(floor.p99Ms)} ms`,
        vreg: cell(v),
        distribution: cell(d),
        ratio: ratioText(v.p99Ms, d.p99Ms, 'p99 vreg/distribution'),
        // Informational beside the floor; the latency target is the wrk row's (50 connections, closed loop).
        target: '—',
        measured: v.errors ? undefined : v.p99Ms,
        goal: { kind: 'none' },
      });
      for (const [who, r] of [
        ['vreg', v],
        ['distribution', d],
      ] as const) {
        ctx.table.note(
          `manifest by ${kind}, ${who}: ${r.completed}/${r.scheduled} answered, ${r.achievedRate.toFixed(0)} req/s, max ${fmt(r.maxMs)} ms, ${fmt(r.cpuMsPerRequest, 3)} ms CPU per request${r.firstError ? `, first error: ${r.firstError}` : ''}.`,
        );
      }
    }
    ctx.table.note(
      `manifest latency floor: the same load generator against a bare node http server (own process, same bytes from memory): p50 ${fmt(floor.p50Ms)} ms, p99 ${fmt(floor.p99Ms)} ms, max ${fmt(floor.maxMs)} ms, ${fmt(floor.cpuMsPerRequest, 3)} ms CPU per request. Latency counts from each request's scheduled send time.`,
    );
  } finally {
    prime.close();
    await stopAll([vreg, distribution]);
  }
}
