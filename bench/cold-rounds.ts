import { startBareProxy } from './bare-proxy.ts';
import { type BenchContext, warmUp } from './bench-context.ts';
import type { PullClient } from './pull-client.ts';
import type { PullTarget } from './pull-target.ts';
import { type ResultRow, ratioText } from './results-table.ts';

/** What a cold scenario pulls through besides upstream A itself: vreg, distribution and the two bare proxies (the floor). */
export type FreshTargetKey = 'vreg' | 'distribution' | 'passThrough' | 'verifying';

/**
 * One cold round's targets, in turn: each started fresh (an empty cache),
 * warmed (warmUp: every serving process has filled an image of its own),
 * handed to `measure`, then stopped.
 */
export async function eachFreshTarget(
  ctx: BenchContext,
  client: PullClient,
  measure: (key: FreshTargetKey, target: PullTarget) => Promise<void>,
): Promise<void> {
  for (const [key, start] of [
    ['vreg', ctx.startVreg],
    ['distribution', ctx.startDistribution],
    ['passThrough', (url: string) => startBareProxy(url, 'pass-through')],
    ['verifying', (url: string) => startBareProxy(url, 'verifying')],
  ] as const) {
    const target = await start(ctx.upstreamUrl);
    try {
      await warmUp(client, target);
      await measure(key, target);
    } finally {
      await target.stop();
    }
  }
}

/** A cold scenario's row: vreg's and distribution's median times beside the direct one's, against the ≤ 1.10 × direct target. */
export function coldTimeRow(scenario: string, ms: { direct: number; vreg: number; distribution: number }): ResultRow {
  return {
    scenario,
    vreg: `${ms.vreg.toFixed(0)} ms`,
    distribution: `${ms.distribution.toFixed(0)} ms`,
    ratio: `${ratioText(ms.vreg, ms.direct, 'vreg/direct')}; ${ratioText(ms.distribution, ms.direct, 'distribution/direct')}`,
    target: '≤ 1.10 × direct',
    measured: ms.vreg / ms.direct,
    goal: { kind: 'atMost', value: 1.1 },
  };
}
