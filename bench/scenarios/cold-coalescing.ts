import { startCpuHog } from '../../test/support/cpu-hog.ts';
import { type BenchContext, BIG_IMAGE, stopAll, timed, warmUp } from '../bench-context.ts';
import { CountingProxy } from '../counting-proxy.ts';
import { PullClient } from '../pull-client.ts';
import type { PullTarget } from '../pull-target.ts';
import { ratioText } from '../results-table.ts';

interface ColdStampede {
  label: string;
  /** Upstream GETs of each blob of BIG_IMAGE (config first, then layers). */
  getsPerBlob: number[];
  manifestGets: number;
  blobHeads: number;
  ms: number;
  failed: number;
  firstError?: string;
}

/**
 * `clients` clients, each with its own connections (like pods on separate
 * nodes), pull BIG_IMAGE at the same moment through a cold cache, three
 * blobs at a time like docker, hashing every byte. A counting proxy between
 * the registry and upstream A counts the upstream GETs of each blob.
 */
async function stampede(ctx: BenchContext, start: (upstreamUrl: string) => Promise<PullTarget>, hog: boolean): Promise<ColdStampede> {
  const proxy = new CountingProxy(ctx.upstreamUrl);
  let target: PullTarget | undefined;
  const clients = Array.from({ length: ctx.clients }, () => new PullClient(3));
  try {
    target = await start(await proxy.start());
    const t = target;
    const warm = new PullClient(4);
    await warmUp(warm, t).finally(() => warm.close());
    // The hog runs while the pulls do (bounded: it ends by itself after two minutes).
    const spinning = hog ? await startCpuHog(120_000) : undefined;
    const { ms, value: results } = await timed(() =>
      Promise.allSettled(
        clients.map((c, i) => c.pullImage(t.bases[i % t.bases.length]!, BIG_IMAGE.name, BIG_IMAGE.tag, { verify: true, parallelBlobs: 3 })),
      ),
    ).finally(() => spinning?.stop());
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    return {
      label: t.label,
      getsPerBlob: ctx.bigImage.blobs.map((b) => proxy.count('GET', `/${BIG_IMAGE.name}/blobs/${b.digest}`)),
      manifestGets:
        proxy.count('GET', `/${BIG_IMAGE.name}/manifests/${BIG_IMAGE.tag}`) +
        proxy.count('GET', `/${BIG_IMAGE.name}/manifests/${ctx.bigImage.manifestDigest}`),
      blobHeads: ctx.bigImage.blobs.reduce((n, b) => n + proxy.count('HEAD', `/${BIG_IMAGE.name}/blobs/${b.digest}`), 0),
      ms,
      failed: failures.length,
      ...(failures[0] ? { firstError: String((failures[0].reason as Error).message ?? failures[0].reason) } : {}),
    };
  } finally {
    for (const c of clients) c.close();
    await stopAll([target]);
    await proxy.stop();
  }
}

const perBlob = (s: ColdStampede): string =>
  `${Math.max(...s.getsPerBlob)} (per blob ${s.getsPerBlob.join('/')})${s.failed ? `, ${s.failed} pulls failed` : ''}`;

/** 1 when every blob went upstream exactly once, else the worst count; undefined when pulls failed. */
const exactlyOnce = (s: ColdStampede): number | undefined =>
  s.failed ? undefined : s.getsPerBlob.every((n) => n === 1) ? 1 : Math.max(...s.getsPerBlob);

/**
 * Row 1: upstream GETs per blob and time to the last byte for `clients`
 * concurrent cold pulls, through vreg embedded (its worker processes share
 * one lease table), vreg with two gateway processes (distributed, clients
 * alternating between them, a CPU hog spinning on every core meanwhile)
 * and distribution.
 */
export async function coldCoalescing(ctx: BenchContext): Promise<void> {
  const attempt = async (
    what: string,
    start: (upstreamUrl: string) => Promise<PullTarget>,
    hog = false,
  ): Promise<ColdStampede | undefined> => {
    try {
      const result = await stampede(ctx, start, hog);
      ctx.log(`  ${what}: ${JSON.stringify(result)}`);
      return result;
    } catch (err) {
      ctx.table.note(`${ctx.clients} cold pulls via ${what}: did not run: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  const one = await attempt('vreg embedded', (u) => ctx.startVreg(u));
  // Two gateways under a CPU hog: the fill lease must elect one filler even when every process is starved.
  const two = await attempt('vreg, two gateways, CPU hog', (u) => ctx.startVregDistributed(u, 2), true);
  const reference = await attempt('distribution', ctx.startDistribution);

  const n = ctx.clients;
  const worst = (s: ColdStampede | undefined): number => (s ? Math.max(...s.getsPerBlob) : Number.NaN);
  for (const [label, s] of [
    ['embedded', one],
    ['two gateways (distributed), CPU hog on every core', two],
  ] as const) {
    ctx.table.add({
      scenario: `${n} concurrent cold pulls: upstream GETs per blob, vreg ${label}`,
      vreg: s ? perBlob(s) : 'failed',
      distribution: reference ? perBlob(reference) : 'failed',
      ratio: ratioText(worst(s), worst(reference), 'vreg/distribution'),
      target: 'exactly 1',
      measured: s && exactlyOnce(s),
      goal: { kind: 'equals', value: 1 },
    });
  }
  for (const [label, s] of [
    ['embedded', one],
    ['two gateways, CPU hog', two],
  ] as const) {
    ctx.table.add({
      scenario: `${n} concurrent cold pulls: time to the last byte, vreg ${label}`,
      vreg: s ? `${(s.ms / 1000).toFixed(2)} s` : 'failed',
      distribution: reference ? `${(reference.ms / 1000).toFixed(2)} s` : 'failed',
      ratio: ratioText(s?.ms ?? Number.NaN, reference?.ms ?? Number.NaN, 'vreg/distribution'),
      target: '—',
      measured: s?.ms,
      goal: { kind: 'none' },
    });
  }
  for (const s of [one, two, reference]) {
    if (!s) continue;
    ctx.table.note(
      `${n} cold pulls via ${s.label}: upstream saw ${s.manifestGets} manifest GETs and ${s.blobHeads} blob HEADs for ${BIG_IMAGE.name}${s.failed ? `; ${s.failed} pulls failed, first: ${s.firstError}` : ''}.`,
    );
  }
}
