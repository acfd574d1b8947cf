import { type BenchContext, BIG_IMAGE, timed, warmUp } from '../bench-context.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';
import { median } from '../stats.ts';

/**
 * Row 2: how long one client takes to pull BIG_IMAGE (manifest, then each
 * blob in turn, every byte hashed) directly from upstream A, and through a
 * freshly started vreg and distribution whose caches are empty. Each round
 * starts new processes; the figure is the median of the rounds. Before the
 * timed pull each fresh process serves two small unrelated images, so its
 * JIT and the client's connections are warm and only the cache is cold.
 */
export async function coldPullTime(ctx: BenchContext): Promise<void> {
  const client = new PullClient(4);
  const direct = directTarget(ctx.upstreamUrl);
  const times = { direct: [] as number[], vreg: [] as number[], distribution: [] as number[] };
  const pull = (target: PullTarget): Promise<number> =>
    client.pullImage(target.bases[0]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: true, parallelBlobs: 1 });
  try {
    // Upstream A's files into the page cache, and a connection to it.
    await pull(direct);
    for (let round = 0; round < ctx.rounds; round++) {
      times.direct.push((await timed(() => pull(direct))).ms);
      for (const [key, start] of [
        ['vreg', ctx.startVreg],
        ['distribution', ctx.startDistribution],
      ] as const) {
        const target = await start(ctx.upstreamUrl);
        try {
          await warmUp(client, target);
          times[key].push((await timed(() => pull(target))).ms);
        } finally {
          await target.stop();
        }
      }
      ctx.log(
        `  round ${round + 1}: direct ${times.direct.at(-1)!.toFixed(0)} ms, vreg ${times.vreg.at(-1)!.toFixed(0)} ms, distribution ${times.distribution.at(-1)!.toFixed(0)} ms`,
      );
    }
  } finally {
    client.close();
  }
  const d = median(times.direct);
  const v = median(times.vreg);
  const r = median(times.distribution);
  const mb = (ctx.bigImage.blobs.reduce((n, b) => n + b.size, 0) / 1e6).toFixed(0);
  ctx.table.add({
    scenario: `cold pull time, ${BIG_IMAGE.name}:${BIG_IMAGE.tag} (${mb} MB), 1 client, sequential; direct ${d.toFixed(0)} ms (median of ${ctx.rounds})`,
    vreg: `${v.toFixed(0)} ms`,
    distribution: `${r.toFixed(0)} ms`,
    ratio: `${ratioText(v, d, 'vreg/direct')}; ${ratioText(r, d, 'distribution/direct')}`,
    target: '≤ 1.10 × direct',
    measured: v / d,
    goal: { kind: 'atMost', value: 1.1 },
  });
  ctx.table.note(
    `cold pull time, every round: direct ${times.direct.map((t) => t.toFixed(0)).join('/')} ms, vreg ${times.vreg.map((t) => t.toFixed(0)).join('/')} ms, distribution ${times.distribution.map((t) => t.toFixed(0)).join('/')} ms.`,
  );
}
