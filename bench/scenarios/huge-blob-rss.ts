import { performance } from 'node:perf_hooks';
import { type BenchContext, stopAll } from '../bench-context.ts';
import { ensureHugeImage, type HugeImage } from '../huge-image.ts';
import { PullClient } from '../pull-client.ts';
import type { PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';
import { type RssPeak, RssSampler } from '../rss-sampler.ts';

/** A bench-only image in upstream A; the tests never pull it. */
const HUGE = { name: 'bench/huge', tag: 'v1' } as const;
/** How long each phase streams: the peak is reached once all clients stream, well before; the rest is cut off. */
const PHASE_WINDOW_MS = 20_000;

interface Phase {
  /** Per serving process. */
  peak: RssPeak;
  /** The sum of every process's own peak (a primary and its workers), when there are several. */
  totalPeakMb?: number;
  ms: number;
  /** Clients that received the whole blob (hashed and checked when verifying). */
  complete: number;
  /** Clients that failed before the window closed. */
  failed: number;
  /** Bytes all clients received, MB. */
  streamedMb: number;
  firstError?: string;
}

/**
 * `clients` clients GET the huge blob at once (cold: hashed and verified;
 * warm: counted) while the serving process's RSS is sampled every 100 ms.
 * The phase ends when every client is done or after PHASE_WINDOW_MS, when
 * the clients still streaming are cut off (not counted as failed).
 */
async function phase(ctx: BenchContext, target: PullTarget, image: HugeImage, verify: boolean): Promise<Phase> {
  // The processes that serve (a vreg primary's workers; else the one process).
  const sampler = new RssSampler(target.servingPids ?? target.pids, 100);
  const all = target.servingPids ? new RssSampler(target.pids, 100) : undefined;
  const clients = Array.from({ length: ctx.clients }, () => new PullClient(1));
  let streamed = 0;
  let windowClosed = false;
  const t0 = performance.now();
  const cutOff = setTimeout(() => {
    windowClosed = true;
    for (const c of clients) c.close();
  }, PHASE_WINDOW_MS);
  try {
    const results = await Promise.allSettled(
      clients.map((c) => c.blob(target.bases[0]!, image.name, image.layer.digest, verify, (n) => (streamed += n))),
    );
    const ms = performance.now() - t0;
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const allPeak = all?.stop();
    return {
      peak: sampler.stop(),
      ...(allPeak ? { totalPeakMb: allPeak.sampledMb.reduce((a, b) => a + b, 0) } : {}),
      ms,
      complete: results.length - failures.length,
      failed: windowClosed ? 0 : failures.length,
      streamedMb: streamed / 1e6,
      ...(failures[0] && !windowClosed ? { firstError: String((failures[0].reason as Error).message) } : {}),
    };
  } finally {
    clearTimeout(cutOff);
    sampler.stop();
    all?.stop();
    for (const c of clients) c.close();
  }
}

interface Phases {
  cold: Phase;
  /** Hits served by the process that did the fill. */
  warm: Phase;
  /** Hits served by a process started on the same data afterwards (one that holds nothing of the fill), when the target can restart. */
  hitsOnly?: Phase;
}

/** Cold then warm phase on a fresh target, then (vreg) warm again in a new process on the same data. */
async function coldAndWarm(ctx: BenchContext, start: Promise<PullTarget>, image: HugeImage): Promise<Phases> {
  let target: PullTarget | undefined;
  try {
    target = await start;
    const manifest = new PullClient(1);
    await manifest.manifest(target.bases[0]!, image.name, image.tag).finally(() => manifest.close());
    const cold = await phase(ctx, target, image, true);
    const warm = await phase(ctx, target, image, false);
    if (!target.restart) return { cold, warm };
    target = await target.restart();
    return { cold, warm, hitsOnly: await phase(ctx, target, image, false) };
  } finally {
    await stopAll([target]);
  }
}

/**
 * Row 5: peak resident memory of the serving process while `clients`
 * clients stream the same ~200 MB blob at once, first through a cold cache
 * (one upstream download fanned out), then warm; for vreg the warm row is
 * measured in a process restarted on the same data (hits only: what the
 * fill left in the first process's heap is in the notes). vreg is embedded mode: the
 * figure is its largest serving process (a worker, running the gateway;
 * with VREG_WORKERS=1, the one process that also runs the fetcher and the
 * catalog), the notes add every process together; distribution is the Go
 * process.
 */
export async function hugeBlobRss(ctx: BenchContext, sizeMb: number): Promise<void> {
  const verify = (kind: 'cold' | 'warm'): string => (kind === 'cold' ? ' and verified' : '');
  const image = await ensureHugeImage(ctx.upstreamUrl, HUGE.name, HUGE.tag, sizeMb * 1024 * 1024);
  const vreg = await coldAndWarm(ctx, ctx.startVreg(ctx.upstreamUrl), image);
  ctx.log(`  vreg: ${JSON.stringify(vreg)}`);
  const distribution = await coldAndWarm(ctx, ctx.startDistribution(ctx.upstreamUrl), image);
  ctx.log(`  distribution: ${JSON.stringify(distribution)}`);

  const peak = (p: Phase): number => Math.max(...p.peak.sampledMb);
  for (const kind of ['cold', 'warm'] as const) {
    // Hits: the process serving them has not filled this blob (restarted on the same data), as the target asks of hits.
    const v = kind === 'warm' ? (vreg.hitsOnly ?? vreg.warm) : vreg.cold;
    const d = distribution[kind];
    const cell = (p: Phase): string => `${peak(p).toFixed(0)} MB${p.failed ? ` (${p.failed} failed)` : ''}`;
    const what =
      kind === 'cold' ? 'cold (one fill fanned out)' : vreg.hitsOnly ? 'warm (hits; vreg restarted on the same data first)' : 'warm (hits)';
    ctx.table.add({
      scenario: `peak RSS of the (largest) serving process, ${ctx.clients} concurrent GETs of one ${sizeMb} MiB blob, ${what} (first ${PHASE_WINDOW_MS / 1000} s at most)`,
      vreg: cell(v),
      distribution: cell(d),
      ratio: ratioText(peak(v), peak(d), 'vreg/distribution'),
      target: '≤ 200 MB',
      measured: v.failed ? undefined : peak(v),
      goal: { kind: 'atMost', value: 200 },
    });
    for (const [who, p] of [
      ['vreg', v],
      ['distribution', d],
      ...(kind === 'warm' && vreg.hitsOnly ? ([['vreg, in the process that did the fill', vreg.warm]] as const) : []),
    ] as const) {
      ctx.table.note(
        `${sizeMb} MiB × ${ctx.clients} ${kind} via ${who}: ${p.complete} of ${ctx.clients} complete${verify(kind)} in ${(p.ms / 1000).toFixed(1)} s, ${(p.streamedMb / 1000).toFixed(1)} GB streamed (${(p.streamedMb / (p.ms / 1000)).toFixed(0)} MB/s); peak RSS per serving process ${p.peak.sampledMb.map((m) => m.toFixed(0)).join('/')} MB${p.totalPeakMb === undefined ? '' : ` (all processes together, primary included: ${p.totalPeakMb.toFixed(0)} MB)`}, before ${p.peak.baselineMb.map((m) => m.toFixed(0)).join('/')} MB, VmHWM since start ${p.peak.hwmMb.map((m) => m.toFixed(0)).join('/')} MB${p.failed ? `; ${p.failed} failed, first: ${p.firstError}` : ''}.`,
      );
    }
  }
}
