import { type BenchContext, BIG_IMAGE, stopAll, warmUp } from '../bench-context.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { fmt, ratioText } from '../results-table.ts';
import { RssSampler, runQueueWaitMs, totalCpuMs, waitForIdle } from '../rss-sampler.ts';
import { median } from '../stats.ts';
import { runWrk, type WrkResult } from '../wrk.ts';

const SECONDS = 8;
const MEMORY_CACHE_OFF = 'vreg, blob memory cache off';
const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';

interface Measured {
  target: PullTarget;
  /** Label in the table and the chart. */
  label: string;
  /** Measured on the cached blob only, not on manifests. */
  blobOnly?: boolean;
  blob: Array<WrkResult & { cpuSecPerGb: number; peakRssMb: number }>;
  manifest: Array<WrkResult & { loopDelayMaxMs: number | undefined; waitShare: number }>;
}

/** The worst event-loop delay any vreg process saw since the previous scrape (the window restarts at each scrape), ms. */
async function loopDelayMaxMs(target: PullTarget): Promise<number | undefined> {
  const origin = new URL(target.bases[0]!).origin;
  const text = await fetch(`${origin}/metrics`)
    .then((r) => (r.ok ? r.text() : ''))
    .catch(() => '');
  const values = text
    .split('\n')
    .filter((l) => l.startsWith('vreg_event_loop_delay_seconds{') && l.includes('stat="max"'))
    .map((l) => Number(l.split(' ').at(-1)));
  return values.length ? Math.max(...values) * 1000 : undefined;
}

async function blobRun(m: Measured, url: string, connections: number): Promise<void> {
  const serving = m.target.servingPids ?? m.target.pids;
  const rss = serving.length ? new RssSampler(serving, 100) : undefined;
  const cpu0 = totalCpuMs(m.target.pids);
  const r = await runWrk({ url, connections, seconds: SECONDS });
  const peak = rss?.stop();
  m.blob.push({
    ...r,
    cpuSecPerGb: (totalCpuMs(m.target.pids) - cpu0) / 1000 / (r.bytes / 1e9),
    peakRssMb: peak ? Math.max(...peak.sampledMb) : Number.NaN,
  });
}

async function manifestRun(m: Measured, url: string, connections: number, isVreg: boolean): Promise<void> {
  await waitForIdle(m.target.pids, 3_000);
  if (isVreg) await loopDelayMaxMs(m.target); // starts a fresh window
  const serving = m.target.servingPids ?? m.target.pids;
  const wait0 = runQueueWaitMs(serving);
  const r = await runWrk({ url, connections, seconds: SECONDS, headers: { Accept: ACCEPT } });
  // Share of the run the serving processes were runnable but had no CPU (averaged over them).
  const waitShare = serving.length ? (runQueueWaitMs(serving) - wait0) / serving.length / (r.seconds * 1000) : Number.NaN;
  m.manifest.push({ ...r, loopDelayMaxMs: isVreg ? await loopDelayMaxMs(m.target) : undefined, waitShare });
}

/**
 * Cached-blob throughput and manifest-by-tag latency at `clients`
 * connections, measured with wrk (a C load generator: the node client
 * capped the old figures). vreg as a user starts it (VREG_WORKERS default),
 * vreg in the other process model (2 workers when the default serves from
 * one process on this machine, else one process), distribution,
 * and the upstream itself for reference, each started fresh and warmed
 * with one verified pull of BIG_IMAGE. Rounds alternate the order; the
 * figure is the median. For vreg, the worst event-loop delay of any of its
 * processes during the manifest run comes from its own /metrics.
 */
export async function wrkServing(ctx: BenchContext): Promise<void> {
  const targets: Measured[] = [];
  const prime = new PullClient(4);
  try {
    const start = async (label: string, started: Promise<PullTarget>, blobOnly = false): Promise<void> => {
      const target = await started;
      targets.push({ target, label, blob: [], manifest: [], blobOnly });
    };
    await start('vreg', ctx.startVreg(ctx.upstreamUrl));
    // The other process model beside the default: worker processes when the default serves from one process here, else one process.
    const defaultHasWorkers =
      targets[0]!.target.servingPids !== undefined && targets[0]!.target.servingPids[0] !== targets[0]!.target.pids[0];
    await start(
      defaultHasWorkers ? 'vreg, 1 process' : 'vreg, 2 workers',
      ctx.startVreg(ctx.upstreamUrl, { workers: defaultHasWorkers ? 1 : 2 }),
    );
    // The path under the blob memory cache: hits read from the store, as blobs over its size limit always are.
    await start(MEMORY_CACHE_OFF, ctx.startVreg(ctx.upstreamUrl, { env: { VREG_BLOB_MEMORY_CACHE_BYTES: '0' } }), true);
    await start('distribution', ctx.startDistribution(ctx.upstreamUrl));
    targets.push({ target: directTarget(ctx.upstreamUrl), label: 'direct (upstream)', blob: [], manifest: [] });
    for (const m of targets) {
      await warmUp(prime, m.target);
      await prime.pullImage(m.target.bases[0]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: true, parallelBlobs: 3 });
    }
    const layer = ctx.bigImage.blobs[1]!;
    const blobUrl = (t: PullTarget): string => `${t.bases[0]}/${BIG_IMAGE.name}/blobs/${layer.digest}`;
    const manifestUrl = (t: PullTarget): string => `${t.bases[0]}/${BIG_IMAGE.name}/manifests/${BIG_IMAGE.tag}`;
    const compared = targets.filter((m) => m.label !== 'direct (upstream)');
    const direct = targets.find((m) => m.label === 'direct (upstream)')!;

    for (let round = 0; round < ctx.rounds; round++) {
      const order = round % 2 ? [...compared].reverse() : compared;
      for (const m of order) await blobRun(m, blobUrl(m.target), ctx.clients);
      if (round === 0) await blobRun(direct, blobUrl(direct.target), ctx.clients);
      for (const m of order) if (!m.blobOnly) await manifestRun(m, manifestUrl(m.target), ctx.clients, m.label.startsWith('vreg'));
      if (round === 0) await manifestRun(direct, manifestUrl(direct.target), ctx.clients, false);
      ctx.log(
        `  round ${round + 1}: ${targets
          .filter((m) => m.blob.length > round)
          .map(
            (m) =>
              `${m.label} ${fmt(m.blob.at(-1)?.mbps ?? Number.NaN, 0)} MB/s${m.blobOnly ? '' : `, manifest p99 ${fmt(m.manifest.at(-1)?.p99Ms ?? Number.NaN)} ms`}`,
          )
          .join('; ')}`,
      );
    }
  } finally {
    prime.close();
    await stopAll(targets.map((m) => m.target));
  }

  const by = (label: string): Measured => targets.find((m) => m.label === label)!;
  const other = targets[1]!;
  const mbps = (m: Measured): number => median(m.blob.map((r) => r.mbps));
  const p99 = (m: Measured): number => median(m.manifest.map((r) => r.p99Ms));
  const slow = (m: Measured): number => m.manifest.reduce((n, r) => n + r.slow, 0);
  const failedRequests = (runs: WrkResult[]): number => runs.reduce((n, r) => n + r.badStatus + r.socketErrors, 0);
  const vreg = by('vreg');

  const distribution = by('distribution');
  const direct = by('direct (upstream)');
  const layerMb = (ctx.bigImage.blobs[1]!.size / 1e6).toFixed(1);

  const blobFailures = failedRequests(vreg.blob);
  ctx.table.add({
    scenario: `cached ${layerMb} MB blob, ${ctx.clients} connections, wrk ${SECONDS} s (median of ${ctx.rounds}); direct from upstream ${fmt(mbps(direct), 0)} MB/s; ${other.label} ${fmt(mbps(other), 0)} MB/s; ${MEMORY_CACHE_OFF} ${fmt(mbps(by(MEMORY_CACHE_OFF)), 0)} MB/s (${ratioText(mbps(by(MEMORY_CACHE_OFF)), mbps(by('distribution')), 'memory cache off/distribution')})`,
    vreg: `${fmt(mbps(vreg), 0)} MB/s${blobFailures ? ` (${blobFailures} failed)` : ''}`,
    distribution: `${fmt(mbps(distribution), 0)} MB/s`,
    ratio: ratioText(mbps(vreg), mbps(distribution), 'vreg/distribution'),
    target: '≥ 1.2 × distribution',
    measured: blobFailures ? undefined : mbps(vreg) / mbps(distribution),
    goal: { kind: 'atLeast', value: 1.2 },
  });
  const manifestCell = (m: Measured): string => {
    const failures = failedRequests(m.manifest);
    return `p99 ${fmt(p99(m))} ms, max ${fmt(Math.max(...m.manifest.map((r) => r.maxMs)), 0)} ms, ${slow(m)} over 1 s, ${fmt(median(m.manifest.map((r) => r.requestsPerSecond)), 0)} req/s${failures ? ` (${failures} failed)` : ''}`;
  };
  const manifestOk = slow(vreg) === 0 && failedRequests(vreg.manifest) === 0;
  ctx.table.add({
    scenario: `manifest by tag, ${ctx.clients} connections, wrk ${SECONDS} s (median p99 of ${ctx.rounds}; requests over 1 s in all rounds); direct ${fmt(p99(direct))} ms p99; ${other.label} ${fmt(p99(other))} ms p99`,
    vreg: manifestCell(vreg),
    distribution: manifestCell(distribution),
    ratio: ratioText(p99(vreg), p99(distribution), 'p99 vreg/distribution'),
    target: 'p99 ≤ 100 ms, none over 1 s',
    measured: manifestOk ? p99(vreg) : undefined,
    goal: { kind: 'atMost', value: 100 },
  });

  for (const m of targets)
    if (m.blob.length > 0)
      ctx.table.note(`wrk, ${m.label} (${m.target.label}): ${[blobNote(m), ...(m.blobOnly ? [] : [manifestNote(m)])].join('; ')}.`);
  ctx.chart.throughput.push(...targets.map((m) => ({ target: m.label, mbps: mbps(m) })));
  ctx.chart.manifestP99.push(...targets.filter((m) => !m.blobOnly).map((m) => ({ target: m.label, ms: p99(m) })));
}

function blobNote(m: Measured): string {
  const rss = Number.isFinite(m.blob[0]!.peakRssMb)
    ? `, peak RSS of a serving process ${fmt(Math.max(...m.blob.map((r) => r.peakRssMb)), 0)} MB`
    : '';
  return `blob MB/s per run ${m.blob.map((r) => fmt(r.mbps, 0)).join('/')}, CPU ${fmt(median(m.blob.map((r) => r.cpuSecPerGb)))} s per GB${rss}`;
}

function manifestNote(m: Measured): string {
  const loop =
    m.manifest[0]?.loopDelayMaxMs === undefined
      ? ''
      : `, worst event-loop delay ${m.manifest.map((r) => fmt(r.loopDelayMaxMs ?? Number.NaN, 0)).join('/')} ms`;
  const waiting = Number.isFinite(m.manifest[0]?.waitShare ?? Number.NaN)
    ? `, serving processes waiting for a CPU ${m.manifest.map((r) => `${fmt(r.waitShare * 100, 0)} %`).join('/')} of the run (runnable, not scheduled: the machine's load, not their code)`
    : '';
  return `manifest p50 ${m.manifest.map((r) => fmt(r.p50Ms)).join('/')} ms, p99 ${m.manifest.map((r) => fmt(r.p99Ms)).join('/')} ms${loop}${waiting}`;
}
