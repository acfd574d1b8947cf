/** Minutes kept: the longest window the overview answers for (a day). */
const MINUTES_KEPT = 24 * 60;
/** Images kept per minute bucket: a bound on memory when clients pull thousands of names. */
const IMAGES_PER_BUCKET_MAX = 500;
/**
 * Minutes a bucket remembers which objects it counted: a manifest's tag and
 * digest events come together, so a few minutes of consumer lag suffice,
 * and a day of every stored object's key would grow with the traffic.
 */
const STORED_DEDUP_MINUTES = 5;
/** Characters of an upstream error message kept. */
const MESSAGE_MAX = 200;

/** The windows the overview answers for, in minutes. */
export const OverviewWindows = { '1h': 60, '24h': MINUTES_KEPT } as const;
export type OverviewWindow = keyof typeof OverviewWindows;

/**
 * Points of each window's time series, a fixed number whatever the traffic:
 * one-minute points for the hour, fifteen-minute points for the day (96, a
 * chart's width worth of bars). Each divides its window evenly.
 */
export const OverviewSeriesPoints: Record<OverviewWindow, number> = { '1h': 60, '24h': 96 };

/** The traffic of one interval of the window's series. */
export interface OverviewPoint {
  /** The interval's first minute; it lasts the series' `bucketMinutes`. */
  start: Date;
  hits: number;
  misses: number;
  /** hits / (hits + misses); undefined when the interval had no traffic (no ratio, unlike the window's 0). */
  hitRatio: number | undefined;
  bytesServedFromCache: number;
  bytesFetchedUpstream: number;
}

/** Traffic over a window: hits and bytes from the cache, misses and bytes from upstreams, what was pulled most, what failed. */
export interface Overview {
  window: OverviewWindow;
  /** Pulls answered from the cache (entry.served counts). */
  hits: number;
  /** Objects fetched from an upstream and stored (object.stored; a manifest's tag and digest paths count once). */
  misses: number;
  /** hits / (hits + misses); 0 when there was no traffic. */
  hitRatio: number;
  /** Bytes sent to clients from the cache (hits × entry size). */
  bytesServedFromCache: number;
  /** Bytes fetched from upstreams and stored. */
  bytesFetchedUpstream: number;
  /** Most-pulled images, hits and misses together, most first (at most 10). */
  topImages: Array<{ image: string; downloads: number }>;
  /** Failed upstream requests by upstream, most first. */
  upstreamErrors: Array<{ upstream: string; count: number; lastMessage: string; lastAt: Date }>;
  /**
   * The same hits, misses and bytes over time: `OverviewSeriesPoints[window]`
   * intervals of `bucketMinutes`, oldest first, the last one ending with the
   * current minute, so the points add up to the window's totals.
   */
  series: { bucketMinutes: number; points: OverviewPoint[] };
}

interface Bucket {
  hits: number;
  misses: number;
  bytesServed: number;
  bytesFetched: number;
  images: Map<string, number>;
  /** `upstream:digest` of stored objects, so a manifest's tag and digest events count once; emptied after STORED_DEDUP_MINUTES. */
  stored: Set<string>;
  errors: Map<string, { count: number; lastMessage: string; lastAt: Date }>;
}

/** `library/alpine` from `library/alpine/manifests/3.20` or `.../blobs/sha256:...`. */
export function imageOfPath(relativePath: string): string {
  const cut = relativePath.search(/\/(manifests|blobs)\/[^/]+$/);
  return cut < 0 ? relativePath : relativePath.slice(0, cut);
}

/**
 * The console's overview, aggregated in memory by this catalog process from
 * the events its consumers handle (entry.served, object.stored) and from
 * upstream failures reported to it, in one-minute buckets kept for a day
 * (at most 1,440, whatever the traffic); a window's series is summed from
 * them when asked for.
 * Not persisted: a restart starts from zero, and with several catalog
 * replicas each one counts the events it consumed (the Prometheus metrics
 * are the fleet-wide numbers).
 */
export class OverviewStats {
  readonly #buckets = new Map<number, Bucket>();
  readonly #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** `count` cache hits of one entry of `size` bytes. */
  served(input: { relativePath: string; count: number; size: number; at: Date }): void {
    const bucket = this.#bucket(input.at);
    if (bucket === undefined) return;
    bucket.hits += input.count;
    bucket.bytesServed += input.count * input.size;
    this.#countImage(bucket, imageOfPath(input.relativePath), input.count);
  }

  /** One object fetched from an upstream and stored (a miss). */
  stored(input: { upstreamId: string; relativePath: string; digest: string; size: number; at: Date }): void {
    const bucket = this.#bucket(input.at);
    if (bucket === undefined) return;
    const key = `${input.upstreamId}:${input.digest}`;
    if (bucket.stored.has(key)) return;
    bucket.stored.add(key);
    bucket.misses += 1;
    bucket.bytesFetched += input.size;
    this.#countImage(bucket, imageOfPath(input.relativePath), 1);
  }

  /** `count` (default 1) failed upstream requests; `upstream` is the upstream's label (its host) as the metrics name it. */
  upstreamFailed(input: { upstream: string; message: string; count?: number; at?: Date }): void {
    const at = input.at ?? this.#now();
    const bucket = this.#bucket(at);
    if (bucket === undefined) return;
    const seen = bucket.errors.get(input.upstream) ?? { count: 0, lastMessage: '', lastAt: at };
    seen.count += input.count ?? 1;
    if (at >= seen.lastAt) {
      seen.lastMessage = input.message.slice(0, MESSAGE_MAX);
      seen.lastAt = at;
    }
    bucket.errors.set(input.upstream, seen);
  }

  /** Object keys held for de-duplication, over every bucket (bounded by a few minutes of traffic). */
  get storedKeysHeld(): number {
    let n = 0;
    for (const b of this.#buckets.values()) n += b.stored.size;
    return n;
  }

  /** Sums the buckets of the last `window`, and each of its series' intervals. */
  overview(window: OverviewWindow): Overview {
    const nowMinute = minuteOf(this.#now());
    const from = nowMinute - OverviewWindows[window] + 1;
    const bucketMinutes = OverviewWindows[window] / OverviewSeriesPoints[window];
    const points = Array.from({ length: OverviewSeriesPoints[window] }, () => ({ hits: 0, misses: 0, bytesServed: 0, bytesFetched: 0 }));
    let hits = 0,
      misses = 0,
      bytesServed = 0,
      bytesFetched = 0;
    const images = new Map<string, number>();
    const errors = new Map<string, { count: number; lastMessage: string; lastAt: Date }>();
    for (const [minute, b] of this.#buckets) {
      if (minute < from || minute > nowMinute) continue;
      hits += b.hits;
      misses += b.misses;
      bytesServed += b.bytesServed;
      bytesFetched += b.bytesFetched;
      const point = points[Math.floor((minute - from) / bucketMinutes)] as (typeof points)[number];
      point.hits += b.hits;
      point.misses += b.misses;
      point.bytesServed += b.bytesServed;
      point.bytesFetched += b.bytesFetched;
      for (const [image, n] of b.images) images.set(image, (images.get(image) ?? 0) + n);
      for (const [upstream, e] of b.errors) {
        const sum = errors.get(upstream);
        if (sum === undefined) errors.set(upstream, { ...e });
        else {
          sum.count += e.count;
          if (e.lastAt >= sum.lastAt) Object.assign(sum, { lastMessage: e.lastMessage, lastAt: e.lastAt });
        }
      }
    }
    return {
      window,
      hits,
      misses,
      hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses),
      bytesServedFromCache: bytesServed,
      bytesFetchedUpstream: bytesFetched,
      topImages: [...images]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([image, downloads]) => ({ image, downloads })),
      upstreamErrors: [...errors].sort((a, b) => b[1].count - a[1].count).map(([upstream, e]) => ({ upstream, ...e })),
      series: {
        bucketMinutes,
        points: points.map((p, i) => ({
          start: new Date((from + i * bucketMinutes) * 60_000),
          hits: p.hits,
          misses: p.misses,
          hitRatio: p.hits + p.misses === 0 ? undefined : p.hits / (p.hits + p.misses),
          bytesServedFromCache: p.bytesServed,
          bytesFetchedUpstream: p.bytesFetched,
        })),
      },
    };
  }

  /** The bucket of `at`'s minute, dropping those older than a day; undefined for times outside the kept day. */
  #bucket(at: Date): Bucket | undefined {
    const nowMinute = minuteOf(this.#now());
    const minute = Math.min(minuteOf(at), nowMinute);
    if (minute <= nowMinute - MINUTES_KEPT) return undefined;
    for (const [old, b] of this.#buckets) {
      if (old <= nowMinute - MINUTES_KEPT) this.#buckets.delete(old);
      else if (old < nowMinute - STORED_DEDUP_MINUTES && b.stored.size > 0) b.stored.clear();
    }
    let bucket = this.#buckets.get(minute);
    if (bucket === undefined) {
      bucket = { hits: 0, misses: 0, bytesServed: 0, bytesFetched: 0, images: new Map(), stored: new Set(), errors: new Map() };
      this.#buckets.set(minute, bucket);
    }
    return bucket;
  }

  #countImage(bucket: Bucket, image: string, n: number): void {
    if (!bucket.images.has(image) && bucket.images.size >= IMAGES_PER_BUCKET_MAX) return;
    bucket.images.set(image, (bucket.images.get(image) ?? 0) + n);
  }
}

function minuteOf(at: Date): number {
  return Math.floor(at.getTime() / 60_000);
}
