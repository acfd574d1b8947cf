import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  /** `function (file:line)`. */
  frame: string;
  selfMs: number;
  /** Share of all sampled time, 0–100. */
  percent: number;
}

/**
 * The functions with the most self time in a V8 `.cpuprofile` (what
 * `node --cpu-prof` writes), heaviest first: time is attributed to each
 * sample's leaf frame using the profile's own time deltas.
 */
export function topSelfTime(
  profile: CpuProfile,
  limit = 15,
  window: { fromMs?: number; toMs?: number } = {},
): { totalMs: number; idleMs: number; top: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const fromUs = (window.fromMs ?? 0) * 1000;
  const toUs = (window.toMs ?? Number.POSITIVE_INFINITY) * 1000;
  let atUs = 0;
  for (let i = 0; i < samples.length; i++) {
    atUs += deltas[i] ?? 0;
    if (atUs < fromUs || atUs > toUs) continue;
    // Each delta is the time before its sample; attribute the following one to this sample.
    const us = Math.max(0, deltas[i + 1] ?? 0);
    const node = byId.get(samples[i]!);
    if (!node) continue;
    totalUs += us;
    const name = frameName(node);
    if (name === '(idle)') idleUs += us;
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
  }
  const top = [...selfUs.entries()]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, percent: totalUs ? (us / totalUs) * 100 : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, top };
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^.*\/(services|packages|src)\//, '$1/');
  return `${name} (${file}:${lineNumber + 1})`;
}

/** Text report of one profile file; `window` limits it to a stretch of the run (ms since the profile started). */
export function formatTopSelfTime(file: string, limit = 15, window: { fromMs?: number; toMs?: number } = {}): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalMs, idleMs, top } = topSelfTime(profile, limit, window);
  const span =
    window.fromMs !== undefined || window.toMs !== undefined ? ` between ${window.fromMs ?? 0} and ${window.toMs ?? 'end'} ms` : '';
  const lines = [`${basename(file)}: ${totalMs.toFixed(0)} ms sampled${span}, ${idleMs.toFixed(0)} ms idle`];
  for (const t of top) lines.push(`  ${t.selfMs.toFixed(1).padStart(9)} ms ${t.percent.toFixed(1).padStart(5)}%  ${t.frame}`);
  return lines.join('\n');
}

// `tsx bench/cpu-profile-top.ts <file.cpuprofile>... [--top N] [--from-ms A] [--to-ms B]`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const option = (name: string): number | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args.splice(at, 2)[1]) : undefined;
  };
  const limit = option('--top') ?? 15;
  const fromMs = option('--from-ms');
  const toMs = option('--to-ms');
  for (const file of args)
    console.log(formatTopSelfTime(file, limit, { ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }) }));
}
