import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Gauge,
  type Histogram,
  type Meter,
  type ObservableGauge,
  type ObservableResult,
  type UpDownCounter,
} from '@opentelemetry/api';

/** How a pull was answered (the gateway's `X-Vreg-Cache`). */
export type CacheResultLabel = 'hit' | 'miss' | 'stale' | 'coalesced';
/** Where served bytes came from: the blob store (`cache`, the bandwidth saved) or an upstream download. */
export type BytesSource = 'cache' | 'upstream';
/** What a fill lease or upstream request is about. */
export type ObjectKindLabel = 'manifest' | 'blob' | 'tags' | 'referrers' | 'other';

/** The label values known before anything happened: their series start at 0 (see `initPullSeries`). */
const CACHE_RESULTS: readonly CacheResultLabel[] = ['hit', 'miss', 'stale', 'coalesced'];
const PULL_KINDS: readonly ObjectKindLabel[] = ['manifest', 'blob'];
const BYTES_SOURCES: readonly BytesSource[] = ['cache', 'upstream'];

/** Seconds: from a cached lookup (sub-millisecond) to a slow upstream (a minute). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds of a whole HTTP request: up to an hour-long blob. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Told of each failed upstream request: the upstream's label, the error code, its message. */
export type UpstreamFailureListener = (upstream: string, code: string, message: string) => void;

/** Reads a consumer's lag; undefined when it cannot be known right now (the scrape leaves it out). */
export type PendingReader = () => Promise<number | undefined> | number | undefined;

/**
 * The bus's share of the metrics, so adapters depend on only what they record.
 * Labels are stream, consumer and subject names: bounded by the code.
 */
export interface BusMetrics {
  /** A message came back (delivery 2, 3, ...). */
  redelivered(stream: string, consumer: string): void;
  /** A message was given up and stored as a dead letter. */
  deadLettered(stream: string, consumer: string): void;
  /** A request/reply round trip (catalog lookups): seconds, and how it ended. */
  lookupTimed(subject: string, seconds: number, outcome: 'ok' | 'error' | 'unavailable'): void;
  /** Reports `read()` as `vreg_consumer_pending` on every scrape until the returned function is called. */
  observePending(stream: string, consumer: string, read: PendingReader): () => void;
}

/**
 * Every metric vreg exports, as named in the dashboards. Label values are
 * bounded: route templates, registry and upstream ids or hosts, codes and
 * stream names, never images, digests or anything a client chooses.
 * Built over a `Meter`; `VregMetrics.noop()` records nothing.
 */
export class VregMetrics implements BusMetrics {
  readonly #httpRequests: Counter;
  readonly #httpDuration: Histogram;
  readonly #cacheResults: Counter;
  readonly #bytesServed: Counter;
  readonly #coalescedWaiters: UpDownCounter;
  readonly #upstreamDuration: Histogram;
  readonly #upstreamErrors: Counter;
  readonly #upstreamBytes: Counter;
  readonly #rateLimitRemaining: Gauge;
  readonly #fillsInFlight: UpDownCounter;
  readonly #leaseContention: Counter;
  readonly #redeliveries: Counter;
  readonly #deadLetters: Counter;
  readonly #lookupDuration: Histogram;
  readonly #pending: ObservableGauge;
  readonly #policyDenials: Counter;
  readonly #blobMemoryBytes: ObservableGauge;
  readonly #failureListeners = new Set<UpstreamFailureListener>();
  readonly #pendingReaders = new Map<object, { attributes: Attributes; read: PendingReader }>();

  constructor(meter: Meter) {
    this.#httpRequests = meter.createCounter('vreg_http_requests_total', {
      description: 'HTTP requests answered, by route template, method and status',
    });
    this.#httpDuration = meter.createHistogram('vreg_http_request_duration_seconds', {
      description: 'Time from request to the last byte of the response, by route template',
      unit: 's',
      advice: { explicitBucketBoundaries: REQUEST_BUCKETS },
    });
    this.#cacheResults = meter.createCounter('vreg_cache_results_total', {
      description: 'Pulls (GET of a manifest or blob) by cache result: hit, miss, stale, coalesced',
    });
    this.#bytesServed = meter.createCounter('vreg_bytes_served_total', {
      description:
        'Bytes sent to clients for pulls: source="cache" from the blob store (bandwidth saved), source="upstream" streamed from an upstream fill',
      unit: 'By',
    });
    this.#coalescedWaiters = meter.createUpDownCounter('vreg_coalesced_waiters', {
      description: 'Requests streaming from a fill another request started (no download of their own)',
    });
    this.#upstreamDuration = meter.createHistogram('vreg_upstream_request_duration_seconds', {
      description: 'Time until an upstream answered a request (response headers, auth round trips included)',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    });
    this.#upstreamErrors = meter.createCounter('vreg_upstream_errors_total', {
      description: 'Failed upstream requests and bodies, by upstream and error code',
    });
    this.#upstreamBytes = meter.createCounter('vreg_upstream_bytes_total', { description: 'Bytes downloaded from upstreams', unit: 'By' });
    this.#rateLimitRemaining = meter.createGauge('vreg_upstream_ratelimit_remaining', {
      description: 'Pulls left in the upstream rate-limit window, from its last ratelimit-remaining header',
    });
    this.#fillsInFlight = meter.createUpDownCounter('vreg_fills_in_flight', {
      description: 'Fills this process is running (fill leases held)',
    });
    this.#leaseContention = meter.createCounter('vreg_lease_contention_total', {
      description: 'Fill lease requests refused because another filler holds the lease',
    });
    this.#redeliveries = meter.createCounter('vreg_consumer_redeliveries_total', {
      description: 'Messages delivered again (after a nak, an ack timeout or a crash), by stream and consumer',
    });
    this.#deadLetters = meter.createCounter('vreg_dead_letters_total', {
      description: 'Messages given up and stored under vreg.dead.>, by stream and consumer',
    });
    this.#lookupDuration = meter.createHistogram('vreg_catalog_lookup_duration_seconds', {
      description: 'Request/reply round trips to the catalog, by subject and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    });
    this.#policyDenials = meter.createCounter('vreg_policy_denials_total', {
      description:
        'Pulls and warm-ups the pull policy refused (mode="enforce") or would have refused (mode="audit"), by registry and reason: rule, default, unsigned, untrusted',
    });
    this.#pending = meter.createObservableGauge('vreg_consumer_pending', {
      description: 'Messages in the stream not yet delivered to the consumer (consumer lag)',
    });
    this.#pending.addCallback((result) => this.#observePending(result));
    this.#blobMemoryBytes = meter.createObservableGauge('vreg_blob_memory_cache_bytes', {
      description:
        'Bytes of the most-read blobs held in memory (each serving process up to VREG_BLOB_MEMORY_CACHE_BYTES; summed over worker processes)',
      unit: 'By',
    });
  }

  /** Records nothing: for tests and for code built without telemetry. */
  static noop(): VregMetrics {
    return new VregMetrics(createNoopMeter());
  }

  /**
   * Zero series for the pull path's known label sets: each cache result of a
   * manifest or blob pull, each source of bytes served, coalesced waiters.
   * A counter's series appears only once recorded, so without these a new
   * gateway's dashboards show "No data" instead of 0 until its first pull.
   * The registry label is left off (no registry is known yet); the
   * dashboard's per-registry panels leave these series out.
   */
  initPullSeries(): void {
    for (const result of CACHE_RESULTS) for (const kind of PULL_KINDS) this.#cacheResults.add(0, { result, kind });
    for (const source of BYTES_SOURCES) this.#bytesServed.add(0, { source });
    this.#coalescedWaiters.add(0);
  }

  /** Zero series of fills in flight and lease contention by kind (manifest, blob), for the processes that fill (gateway, fetcher). */
  initFillSeries(): void {
    for (const kind of PULL_KINDS) {
      this.#fillsInFlight.add(0, { kind });
      this.#leaseContention.add(0, { kind });
    }
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.#httpRequests.add(1, { route, method, status: String(status) });
    this.#httpDuration.record(seconds, { route, method });
  }

  /** `mirrorHost`: the upstream host a root-path pull was routed by (only hosts some registry mirrors, so bounded). */
  cacheResult(result: CacheResultLabel, registry: string, kind: ObjectKindLabel, mirrorHost?: string): void {
    this.#cacheResults.add(1, { result, registry, kind, ...(mirrorHost === undefined ? {} : { mirror_host: mirrorHost }) });
  }

  bytesServed(source: BytesSource, registry: string, bytes: number, mirrorHost?: string): void {
    if (bytes > 0) this.#bytesServed.add(bytes, { source, registry, ...(mirrorHost === undefined ? {} : { mirror_host: mirrorHost }) });
  }

  /** +1 when a coalesced response starts, -1 when it ends. */
  coalescedWaiter(delta: 1 | -1): void {
    this.#coalescedWaiters.add(delta);
  }

  upstreamAnswered(upstream: string, kind: ObjectKindLabel, seconds: number): void {
    this.#upstreamDuration.record(seconds, { upstream, kind });
  }

  /** `message` is the error's own (secret-free) text; only listeners see it, never a label. */
  upstreamFailed(upstream: string, code: string, message?: string): void {
    this.#upstreamErrors.add(1, { upstream, code });
    for (const listener of this.#failureListeners) listener(upstream, code, message ?? code);
  }

  /** Calls `listener` on every failed upstream request (UpstreamFailureBroadcaster tells the catalog, for the console's overview). Returns the unsubscribe. */
  onUpstreamFailed(listener: UpstreamFailureListener): () => void {
    this.#failureListeners.add(listener);
    return () => {
      this.#failureListeners.delete(listener);
    };
  }

  upstreamBytes(upstream: string, bytes: number): void {
    if (bytes > 0) this.#upstreamBytes.add(bytes, { upstream });
  }

  rateLimitRemaining(upstream: string, remaining: number): void {
    this.#rateLimitRemaining.record(remaining, { upstream });
  }

  /** +1 when a fill lease is taken, -1 when it is given back. */
  fillInFlight(kind: ObjectKindLabel, delta: 1 | -1): void {
    this.#fillsInFlight.add(delta, { kind });
  }

  leaseContended(kind: ObjectKindLabel): void {
    this.#leaseContention.add(1, { kind });
  }

  redelivered(stream: string, consumer: string): void {
    this.#redeliveries.add(1, { stream, consumer });
  }

  deadLettered(stream: string, consumer: string): void {
    this.#deadLetters.add(1, { stream, consumer });
  }

  lookupTimed(subject: string, seconds: number, outcome: 'ok' | 'error' | 'unavailable'): void {
    this.#lookupDuration.record(seconds, { subject, outcome });
  }

  /** A refusal by the pull policy; `mode` and `reason` come from bounded sets (contracts' DenialModes, DenialReasons). */
  policyDenial(registry: string, mode: string, reason: string): void {
    this.#policyDenials.add(1, { registry, mode, reason });
  }

  /** Reports `heldBytes()` as vreg_blob_memory_cache_bytes at each collection. */
  observeBlobMemoryCache(heldBytes: () => number): void {
    this.#blobMemoryBytes.addCallback((result) => result.observe(heldBytes()));
  }

  observePending(stream: string, consumer: string, read: PendingReader): () => void {
    // The consumer exists from now: its redeliveries and dead letters read 0 until the first one.
    this.#redeliveries.add(0, { stream, consumer });
    this.#deadLetters.add(0, { stream, consumer });
    const key = {};
    this.#pendingReaders.set(key, { attributes: { stream, consumer }, read });
    return () => {
      this.#pendingReaders.delete(key);
    };
  }

  async #observePending(result: ObservableResult): Promise<void> {
    await Promise.all(
      [...this.#pendingReaders.values()].map(async ({ attributes, read }) => {
        try {
          const value = await read();
          if (value !== undefined) result.observe(value, attributes);
        } catch {
          // A scrape must not fail because the bus is down: the series is just absent this time.
        }
      }),
    );
  }
}
