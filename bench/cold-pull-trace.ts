import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { BIG_IMAGE, ensureWarmUpImages, warmUp } from './bench-context.ts';
import { imageShape, PullClient } from './pull-client.ts';
import { directTarget, type PullTarget } from './pull-target.ts';
import { cpuTimes } from './rss-sampler.ts';
import { median } from './stats.ts';
import { startEmbeddedVreg } from './vreg-targets.ts';

/**
 * Where a cold pull's time goes, request by request: time to the response
 * headers, to the first body byte, and to the last, for the manifest and
 * each blob of BIG_IMAGE, directly from the upstream and through a fresh
 * embedded vreg (as the `cold` scenario starts it), rounds interleaved.
 * Prints the per-request medians. Not part of `npm run bench`:
 *
 *   npx tsx bench/cold-pull-trace.ts <upstream url> [rounds]
 */

interface Timing {
  what: string;
  headers: number;
  firstByte: number;
  total: number;
}

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

function timedGet(agent: Agent, url: string, what: string, accept?: string): Promise<{ timing: Timing; body: Buffer; digest: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let headers = 0;
    let firstByte = 0;
    const req = request(url, { agent, headers: accept ? { accept } : {} }, (res) => {
      headers = performance.now() - t0;
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (firstByte === 0) firstByte = performance.now() - t0;
        hash.update(chunk);
        if (accept) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode}`));
        resolve({
          timing: { what, headers, firstByte, total: performance.now() - t0 },
          body: Buffer.concat(chunks),
          digest: `sha256:${hash.digest('hex')}`,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function tracedPull(agent: Agent, base: string): Promise<Timing[]> {
  const t0 = performance.now();
  const m = await timedGet(agent, `${base}/${BIG_IMAGE.name}/manifests/${BIG_IMAGE.tag}`, 'manifest', MANIFEST_ACCEPT);
  const timings = [m.timing];
  const shape = imageShape(m.digest, m.body);
  for (const [i, blob] of shape.blobs.entries()) {
    const got = await timedGet(agent, `${base}/${BIG_IMAGE.name}/blobs/${blob.digest}`, i === 0 ? 'config' : `layer ${i}`);
    if (got.digest !== blob.digest) throw new Error(`blob ${blob.digest} hashed to ${got.digest}`);
    timings.push(got.timing);
  }
  timings.push({ what: 'whole pull', headers: 0, firstByte: 0, total: performance.now() - t0 });
  return timings;
}

/** CPU time (user + system, and system alone) of each of `pids` so far, ms (from /proc). */
function cpuOf(pids: number[]): Array<{ total: number; system: number }> {
  return pids.map((pid) => {
    const t = cpuTimes(pid) ?? { userMs: 0, systemMs: 0 };
    return { total: t.userMs + t.systemMs, system: t.systemMs };
  });
}

async function main(): Promise<void> {
  const upstreamUrl = process.argv[2];
  if (!upstreamUrl) throw new Error('usage: cold-pull-trace.ts <upstream url> [rounds]');
  const rounds = Number(process.argv[3] ?? 3);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const client = new PullClient(4);
  const direct = directTarget(upstreamUrl);
  await ensureWarmUpImages(upstreamUrl);
  const cpus: number[] = [];
  const syss: number[] = [];
  const perProcess: string[] = [];
  const runs: Record<'direct' | 'vreg', Timing[][]> = { direct: [], vreg: [] };
  await tracedPull(agent, direct.bases[0]!);
  for (let round = 0; round < rounds; round++) {
    runs.direct.push(await tracedPull(agent, direct.bases[0]!));
    const target: PullTarget = await startEmbeddedVreg({
      upstreamUrl,
      ...(process.env.VREG_TRACE_PROF ? { cpuProfDir: process.env.VREG_TRACE_PROF } : {}),
    });
    try {
      await warmUp(client, target);
      const before = cpuOf(target.pids);
      await tracedPull(agent, target.bases[0]!.replace(/\/$/, '')).then((t) => runs.vreg.push(t));
      const used = cpuOf(target.pids).map((c, i) => ({ total: c.total - before[i]!.total, system: c.system - before[i]!.system }));
      cpus.push(used.reduce((n, c) => n + c.total, 0));
      syss.push(used.reduce((n, c) => n + c.system, 0));
      perProcess.push(used.map((c) => c.total).join('+'));
    } finally {
      await target.stop();
    }
    process.stdout.write(
      `round ${round + 1}: direct ${runs.direct.at(-1)!.at(-1)!.total.toFixed(0)} ms, vreg ${runs.vreg.at(-1)!.at(-1)!.total.toFixed(0)} ms\n`,
    );
  }
  client.close();
  agent.destroy();
  const rows = runs.direct[0]!.map((t, i) => {
    const med = (key: 'direct' | 'vreg', f: keyof Omit<Timing, 'what'>): string => median(runs[key].map((r) => r[i]![f])).toFixed(1);
    return `${t.what.padEnd(11)} direct hdr ${med('direct', 'headers')} first ${med('direct', 'firstByte')} total ${med('direct', 'total')} | vreg hdr ${med('vreg', 'headers')} first ${med('vreg', 'firstByte')} total ${med('vreg', 'total')}`;
  });
  process.stdout.write(
    `medians of ${rounds} rounds, ms\n${rows.join('\n')}\nvreg CPU during the pull (user+system, ms): ${cpus.map((c) => c.toFixed(0)).join('/')}, of it system ${syss.map((c) => c.toFixed(0)).join('/')}; per process (the primary, then each worker): ${perProcess.join(', ')}\n`,
  );
}

await main();
