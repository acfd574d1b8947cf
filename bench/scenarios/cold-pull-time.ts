import { readFileSync } from 'node:fs';
import { type BenchContext, BIG_IMAGE, timed } from '../bench-context.ts';
import { coldTimeRow, eachFreshTarget, type FreshTargetKey } from '../cold-rounds.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';
import { totalCpuMs } from '../rss-sampler.ts';
import { median } from '../stats.ts';

type Key = 'direct' | FreshTargetKey;

/** Each pull's name in the notes, and the name of the process pulled through (none for direct). */
const PULLS: Record<Key, { label: string; registry?: string }> = {
  direct: { label: 'direct' },
  vreg: { label: 'vreg', registry: 'vreg' },
  distribution: { label: 'distribution', registry: 'distribution' },
  passThrough: { label: 'bare pass-through proxy', registry: 'proxy' },
  verifying: { label: 'bare verifying proxy', registry: 'proxy' },
};
const KEYS = Object.keys(PULLS) as Key[];

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
 * timed pull every serving process fills a warm-up image of its own and
 * the client pulls two small unrelated images (warmUp), so JIT and
 * connections are warm and only the cache is cold.
 * The CPU each party used during the timed pulls goes in the notes: on a
 * 2-core machine their sum over two cores bounds how fast a pull can be.
 * So does the floor, measured in the same rounds: the pull through a bare
 * node proxy that only relays the bytes, and through one that also hashes
 * and writes them before releasing the last (bench/bare-proxy.ts).
 */
export async function coldPullTime(ctx: BenchContext): Promise<void> {
  const client = new PullClient(4);
  const direct = directTarget(ctx.upstreamUrl);
  const times = Object.fromEntries(KEYS.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  const cpus = Object.fromEntries(KEYS.map((k) => [k, [] as PullCpu[]])) as Record<Key, PullCpu[]>;
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
      await eachFreshTarget(ctx, client, (key, target) => timedPull(key, target, target.pids));
      ctx.log(`  round ${round + 1}: ${KEYS.map((k) => `${PULLS[k].label} ${times[k].at(-1)!.toFixed(0)} ms`).join(', ')}`);
    }
  } finally {
    client.close();
  }
  const d = median(times.direct);
  const v = median(times.vreg);
  const r = median(times.distribution);
  const mb = (ctx.bigImage.blobs.reduce((n, b) => n + b.size, 0) / 1e6).toFixed(0);
  ctx.table.add(
    coldTimeRow(
      `cold pull time, ${BIG_IMAGE.name}:${BIG_IMAGE.tag} (${mb} MB), 1 client, sequential; direct ${d.toFixed(0)} ms (median of ${ctx.rounds})`,
      { direct: d, vreg: v, distribution: r },
    ),
  );
  const everyRound = (key: Key): string => `${times[key].map((t) => t.toFixed(0)).join('/')} ms`;
  ctx.table.note(
    `cold pull time, every round: direct ${everyRound('direct')}, vreg ${everyRound('vreg')}, distribution ${everyRound('distribution')}.`,
  );
  const p = median(times.passThrough);
  const f = median(times.verifying);
  ctx.table.note(
    `cold pull floor on this machine, same rounds (bench/bare-proxy.ts; median of ${ctx.rounds}): through a bare node proxy that only relays the bytes ${p.toFixed(0)} ms (${ratioText(p, d, 'pass-through/direct')}; every round ${everyRound('passThrough')}); through one that also hashes every byte with SHA-256 and writes it to a file before releasing the last ${f.toFixed(0)} ms (${ratioText(f, d, 'verifying/direct')}; every round ${everyRound('verifying')}).`,
  );
  const cpu = (key: Key, part: keyof PullCpu): string => `${median(cpus[key].map((c) => c[part])).toFixed(0)} ms`;
  const cpuOf = (key: Key): string => {
    const { label, registry } = PULLS[key];
    return `${label}: ${registry ? `${registry} ${cpu(key, 'registry')}, ` : ''}client ${cpu(key, 'client')}, upstream ${cpu(key, 'upstream')}`;
  };
  ctx.table.note(
    `cold pull CPU during the timed pull (user + system, median of ${ctx.rounds}, in 10 ms ticks; upstream ${upstreamPid === undefined ? 'not found' : `pid ${upstreamPid}`}): ${KEYS.map(cpuOf).join('; ')}.`,
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
