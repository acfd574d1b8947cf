import { readFileSync } from 'node:fs';
import { type BenchContext, BIG_IMAGE, timed, warmUp } from '../bench-context.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';
import { totalCpuMs } from '../rss-sampler.ts';
import { median } from '../stats.ts';

type Key = 'direct' | 'vreg' | 'distribution';

/** CPU time (user + system, ms) each party used during one timed pull: the registry pulled from (none for direct), this client, upstream A. */
interface PullCpu {
  registry: number;
  client: number;
  upstream: number;
}

/**
 * Row 2: how long one client takes to pull BIG_IMAGE (manifest, then each
 * blob in turn, every byte hashed) directly from upstream A, and through a
 * freshly started vreg and distribution whose caches are empty. Each round
 * starts new processes; the figure is the median of the rounds. Before the
 * timed pull each fresh process serves two small unrelated images, so its
 * JIT and the client's connections are warm and only the cache is cold.
 * The CPU each party used during the timed pulls goes in the notes: on a
 * 2-core machine their sum over two cores bounds how fast a pull can be.
 */
export async function coldPullTime(ctx: BenchContext): Promise<void> {
  const client = new PullClient(4);
  const direct = directTarget(ctx.upstreamUrl);
  const times: Record<Key, number[]> = { direct: [], vreg: [], distribution: [] };
  const cpus: Record<Key, PullCpu[]> = { direct: [], vreg: [], distribution: [] };
  const pull = (target: PullTarget): Promise<number> =>
    client.pullImage(target.bases[0]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: true, parallelBlobs: 1 });
  const upstreamPid = upstreamAPid();
  const upstreamPids = upstreamPid === undefined ? [] : [upstreamPid];
  const timedPull = async (key: Key, target: PullTarget, registryPids: number[]): Promise<void> => {
    const before = { registry: totalCpuMs(registryPids), client: process.cpuUsage(), upstream: totalCpuMs(upstreamPids) };
    times[key].push((await timed(() => pull(target))).ms);
    const client = process.cpuUsage(before.client);
    cpus[key].push({
      registry: totalCpuMs(registryPids) - before.registry,
      client: (client.user + client.system) / 1000,
      upstream: totalCpuMs(upstreamPids) - before.upstream,
    });
  };
  try {
    // Upstream A's files into the page cache, and a connection to it.
    await pull(direct);
    for (let round = 0; round < ctx.rounds; round++) {
      await timedPull('direct', direct, []);
      for (const [key, start] of [
        ['vreg', ctx.startVreg],
        ['distribution', ctx.startDistribution],
      ] as const) {
        const target = await start(ctx.upstreamUrl);
        try {
          await warmUp(client, target);
          await timedPull(key, target, target.pids);
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
  const cpu = (key: Key, part: keyof PullCpu): string => median(cpus[key].map((c) => c[part])).toFixed(0);
  ctx.table.note(
    `cold pull CPU during the timed pull (user + system, median of ${ctx.rounds}, in 10 ms ticks; upstream ${upstreamPid === undefined ? 'not found' : `pid ${upstreamPid}`}): direct: client ${cpu('direct', 'client')} ms, upstream ${cpu('direct', 'upstream')} ms; vreg: vreg ${cpu('vreg', 'registry')} ms, client ${cpu('vreg', 'client')} ms, upstream ${cpu('vreg', 'upstream')} ms; distribution: distribution ${cpu('distribution', 'registry')} ms, client ${cpu('distribution', 'client')} ms, upstream ${cpu('distribution', 'upstream')} ms.`,
  );
}

/** Upstream A's pid, from the test env's pidfile (it changes when the env restarts it) or its variable. */
function upstreamAPid(): number | undefined {
  const file = process.env.VREG_TEST_REGISTRY_A_PIDFILE;
  let text = process.env.VREG_TEST_REGISTRY_A_PID;
  try {
    if (file) text = readFileSync(file, 'utf8');
  } catch {
    // No pidfile: the variable, if any.
  }
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
