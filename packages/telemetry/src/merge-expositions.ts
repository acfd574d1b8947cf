/** How the samples of one gauge from several processes become one. Counters and histograms always add up. */
export type GaugeMerge = 'sum' | 'min' | 'max' | 'first';

/**
 * Gauges that do not add up across processes; every other gauge is summed
 * (they count things in flight: fills, coalesced waiters, consumer lag seen
 * by one process only). `target_info` describes the service, once.
 */
export const GAUGE_MERGES: Readonly<Record<string, GaugeMerge>> = {
  target_info: 'first',
  // The most conservative of what each process last heard from the upstream.
  vreg_upstream_ratelimit_remaining: 'min',
  // Each process labels its own (stat, worker); equal series would be the same loop.
  vreg_event_loop_delay_seconds: 'max',
};

interface Family {
  meta: string[];
  type: string;
  samples: Map<string, number>;
}

/**
 * One Prometheus text exposition from several processes' (a primary and its
 * workers): series with the same name and labels are merged (counters,
 * histogram buckets, sums and counts added; gauges by GAUGE_MERGES, else
 * added), metric families keep the order in which they first appear, and
 * each family's HELP and TYPE lines are written once.
 */
export function mergeExpositions(texts: readonly string[], merges: Readonly<Record<string, GaugeMerge>> = GAUGE_MERGES): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let family = families.get(name);
    if (!family) {
      family = { meta: [], type: 'untyped', samples: new Map() };
      families.set(name, family);
    }
    return family;
  };
  for (const text of texts) {
    let current: Family | undefined;
    let currentName = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const [, kind, name, ...rest] = line.split(' ');
        if ((kind !== 'HELP' && kind !== 'TYPE') || name === undefined) continue;
        currentName = name;
        current = familyOf(name);
        if (kind === 'TYPE') current.type = rest[0] ?? 'untyped';
        if (!current.meta.some((m) => m.startsWith(`# ${kind} `))) current.meta.push(line);
        continue;
      }
      const cut = line.lastIndexOf(' ');
      if (cut <= 0) continue;
      const series = line.slice(0, cut);
      const value = parseValue(line.slice(cut + 1));
      const name = series.split('{')[0]!;
      // Histogram series (_bucket, _sum, _count) belong to the family declared just before them.
      const family = current && (name === currentName || name.startsWith(`${currentName}_`)) ? current : familyOf(name);
      const merge: GaugeMerge = family.type === 'gauge' ? (merges[currentName] ?? merges[name] ?? 'sum') : 'sum';
      const previous = family.samples.get(series);
      family.samples.set(series, previous === undefined ? value : combine(merge, previous, value));
    }
  }
  const out: string[] = [];
  for (const family of families.values()) {
    out.push(...family.meta);
    for (const [series, value] of family.samples) out.push(`${series} ${formatValue(value)}`);
  }
  return `${out.join('\n')}\n`;
}

function combine(merge: GaugeMerge, a: number, b: number): number {
  switch (merge) {
    case 'first':
      return a;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
    default:
      return a + b;
  }
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * The counters and histograms of an exposition, without its gauges: what a
 * process that exited leaves behind, so the merged totals never drop (a
 * drop would read as a counter reset and spike every `rate()`).
 */
export function withoutGauges(text: string): string {
  const out: string[] = [];
  let gauge = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) gauge = line.split(' ')[3] === 'gauge';
    if (!gauge && line !== '') out.push(line);
  }
  return `${out.join('\n')}\n`;
}
