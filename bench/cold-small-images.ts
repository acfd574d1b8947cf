import { ensureWarmUpImages, warmUp } from './bench-context.ts';
import { ensureHugeImage } from './huge-image.ts';
import { PullClient } from './pull-client.ts';
import { cpuMs, waitForIdle } from './rss-sampler.ts';
import { startEmbeddedVreg } from './vreg-targets.ts';

/**
 * What a cold miss costs per object when the bytes are few: `count`
 * bench-only images of three objects each (manifest, config, a ~100 kB
 * layer; `bench/small-<i>`, pushed into the upstream once) pulled one after
 * another through a fresh embedded vreg, then again (hits), then directly
 * from the upstream. Prints the time per object and the CPU vreg's
 * processes used for the cold pulls, per round. Not part of `npm run bench`:
 *
 *   npx tsx bench/cold-small-images.ts <upstream url> [rounds] [count]
 *
 * VREG_BENCH_BUNDLE and VREG_BENCH_WORKERS choose the vreg, as in the bench;
 * VREG_TRACE_PROF=<dir> has its processes write CPU profiles there.
 */
async function main(): Promise<void> {
  const upstreamUrl = process.argv[2];
  if (!upstreamUrl) throw new Error('usage: cold-small-images.ts <upstream url> [rounds] [count]');
  const rounds = Number(process.argv[3] ?? 3);
  const count = Number(process.argv[4] ?? 40);
  await ensureWarmUpImages(upstreamUrl);
  // Distinct sizes, distinct layers: every pull is a miss.
  for (let i = 0; i < count; i++) await ensureHugeImage(upstreamUrl, `bench/small-${i}`, 'v1', 100_000 + i);
  const client = new PullClient(4);
  const pullAll = async (base: string): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await client.pullImage(base, `bench/small-${i}`, 'v1', { verify: true });
    return performance.now() - t0;
  };
  const perObject = (ms: number): string => `${(ms / count / 3).toFixed(2)} ms per object`;
  try {
    for (let round = 0; round < rounds; round++) {
      const target = await startEmbeddedVreg({
        upstreamUrl,
        ...(process.env.VREG_TRACE_PROF ? { cpuProfDir: process.env.VREG_TRACE_PROF } : {}),
      });
      try {
        await warmUp(client, target);
        // The warm-up's own commits and records finish before the clock starts.
        await waitForIdle(target.pids, 3_000);
        const before = target.pids.map((pid) => cpuMs(pid) ?? 0);
        const cold = await pullAll(target.bases[0]!);
        // The commits and catalog records that follow the last pull count too.
        await waitForIdle(target.pids, 3_000);
        const cpu = target.pids.map((pid, i) => (cpuMs(pid) ?? 0) - before[i]!);
        const warm = await pullAll(target.bases[0]!);
        const direct = await pullAll(`${upstreamUrl}/v2`);
        process.stdout.write(
          `round ${round + 1}: ${count} images cold ${cold.toFixed(0)} ms (${perObject(cold)}), vreg CPU ${cpu.reduce((a, b) => a + b, 0)} ms (per process ${cpu.join('+')}); warm ${perObject(warm)}; direct ${perObject(direct)}\n`,
        );
      } finally {
        await target.stop();
      }
    }
  } finally {
    client.close();
  }
}

await main();
