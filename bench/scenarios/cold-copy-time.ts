import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BenchContext, timed } from '../bench-context.ts';
import { coldTimeRow, eachFreshTarget, type FreshTargetKey } from '../cold-rounds.ts';
import { type BenchImage, ensureBenchImage } from '../huge-image.ts';
import { PullClient } from '../pull-client.ts';
import { directTarget, type PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';
import { totalCpuMs } from '../rss-sampler.ts';
import { median } from '../stats.ts';

const run = promisify(execFile);

/** The image issue 14's cold-pull target names: four 25 MiB layers (bench-only, pushed into upstream A once). */
const FOUR_LAYERS = { name: 'bench/four-layers', tag: 'v1', sizes: [0, 1, 2, 3].map((i) => 25 * 1024 * 1024 + i) } as const;
const COPY_TIMEOUT_MS = 60_000;

type Key = 'direct' | FreshTargetKey;
const LABELS: Record<Key, string> = {
  direct: 'direct',
  vreg: 'vreg',
  distribution: 'distribution',
  passThrough: 'bare pass-through proxy',
  verifying: 'bare verifying proxy',
};
/** The targets pulled through, each with a registry process whose CPU the notes give. */
const THROUGH = ['vreg', 'distribution', 'passThrough', 'verifying'] as const;
const KEYS = Object.keys(LABELS) as Key[];

/**
 * The cold pull as issue 14 measured it: `skopeo copy` of a 4 × 25 MiB
 * image into a `dir:` layout (skopeo fetches the layers in parallel,
 * verifies each digest and writes each file, as a real client does),
 * directly from upstream A and through a freshly started vreg, distribution
 * and the two bare proxies of the `cold` scenario (the floor), whose caches
 * are empty. Each round starts new processes and warms them as the `cold`
 * scenario does; the figure is the median of the rounds. Every copy is
 * checked: one file per layer, of the layer's size.
 */
export async function coldCopyTime(ctx: BenchContext): Promise<void> {
  const skopeo = process.env.VREG_TEST_SKOPEO ?? 'skopeo';
  const version = (await run(skopeo, ['--version'])).stdout.trim();
  const image = await ensureBenchImage(ctx.upstreamUrl, FOUR_LAYERS.name, FOUR_LAYERS.tag, [...FOUR_LAYERS.sizes]);
  const client = new PullClient(4);
  const direct = directTarget(ctx.upstreamUrl);
  const times = Object.fromEntries(KEYS.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  const cpus = Object.fromEntries(KEYS.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  const timedCopy = async (key: Key, target: PullTarget): Promise<void> => {
    const before = totalCpuMs(target.pids);
    times[key].push((await timed(() => copy(skopeo, target, image))).ms);
    cpus[key].push(totalCpuMs(target.pids) - before);
  };
  try {
    // Upstream A's files into the page cache, and skopeo's binary too.
    await copy(skopeo, direct, image);
    for (let round = 0; round < ctx.rounds; round++) {
      await timedCopy('direct', direct);
      await eachFreshTarget(ctx, client, (key, target) => timedCopy(key, target));
      ctx.log(`  round ${round + 1}: ${KEYS.map((k) => `${LABELS[k]} ${times[k].at(-1)!.toFixed(0)} ms`).join(', ')}`);
    }
  } finally {
    client.close();
  }
  const d = median(times.direct);
  const v = median(times.vreg);
  const r = median(times.distribution);
  const p = median(times.passThrough);
  const f = median(times.verifying);
  ctx.table.add(
    coldTimeRow(
      `cold pull time as issue 14 measured it: \`skopeo copy\` of ${FOUR_LAYERS.name}:${FOUR_LAYERS.tag} (${image.layers.length} × 25 MiB) into a dir: layout, ${version}; direct ${d.toFixed(0)} ms (median of ${ctx.rounds})`,
      { direct: d, vreg: v, distribution: r },
    ),
  );
  const everyRound = (key: Key): string => `${times[key].map((t) => t.toFixed(0)).join('/')} ms`;
  ctx.table.note(
    `cold skopeo copy, every round: ${KEYS.map((k) => `${LABELS[k]} ${everyRound(k)}`).join(', ')}. The floor (bench/bare-proxy.ts, median of ${ctx.rounds}): a bare node proxy that only relays ${p.toFixed(0)} ms (${ratioText(p, d, 'pass-through/direct')}), one that also hashes and writes every byte before the last ${f.toFixed(0)} ms (${ratioText(f, d, 'verifying/direct')}). CPU of the process pulled through, during the copy (user + system, median): ${THROUGH.map((k) => `${LABELS[k]} ${median(cpus[k]).toFixed(0)} ms`).join(', ')}.`,
  );
}

/** `skopeo copy` of `image` from `target` into a fresh dir: layout; fails unless every layer arrived whole. */
async function copy(skopeo: string, target: PullTarget, image: BenchImage): Promise<void> {
  const base = new URL(target.bases[0]!);
  // `<base>` is `http://host/v2/<prefix>`; skopeo wants `host/<prefix>/<name>:<tag>`.
  const ref = `${base.host}${base.pathname.replace(/^\/v2/, '')}/${image.name}:${image.tag}`;
  const dest = await mkdtemp(join(tmpdir(), 'vreg-bench-copy-'));
  try {
    const args = ['copy', '--retry-times=0', '--src-tls-verify=false', `docker://${ref}`, `dir:${dest}`];
    await run(skopeo, args, { timeout: COPY_TIMEOUT_MS }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`skopeo ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
    });
    const files = new Set(await readdir(dest));
    for (const layer of image.layers) {
      const file = layer.digest.slice('sha256:'.length);
      const size = files.has(file) ? (await stat(join(dest, file))).size : -1;
      if (size !== layer.size) throw new Error(`skopeo copy of ${ref}: layer ${layer.digest} has ${size} bytes, not ${layer.size}`);
    }
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}
