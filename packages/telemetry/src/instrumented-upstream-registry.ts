import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type {
  BlobRequestOptions,
  HeadRequestOptions,
  ManifestRequestOptions,
  PingOptions,
  UpstreamHead,
  UpstreamPing,
  UpstreamRegistry,
  UpstreamResponse,
  UpstreamTarget,
} from '@vreg/upstream-client';
import type { ObjectKindLabel, VregMetrics } from './vreg-metrics.ts';

const TRACER = '@vreg/upstream';

/**
 * The label of an upstream in metrics: its host and path prefix
 * (`registry-1.docker.io`, `127.0.0.1:5001`), never credentials. Bounded by
 * the upstreams configured.
 */
export function upstreamLabel(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.host}${path}`;
  } catch {
    return 'invalid';
  }
}

/** `ratelimit-remaining: 76;w=21600` (Docker Hub) → 76. */
export function parseRateLimitRemaining(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * An `UpstreamRegistry` that measures every call: a span per request
 * (covering the body download when there is one) named by the upstream,
 * image and reference; `vreg_upstream_request_duration_seconds` until the
 * upstream answered; `vreg_upstream_errors_total` by code, body failures
 * included; bytes downloaded; and the rate-limit headroom the upstream
 * reports. Credentials never reach a span or a label: only the target's URL
 * host and path are used.
 */
export class InstrumentedUpstreamRegistry implements UpstreamRegistry {
  readonly #inner: UpstreamRegistry;
  readonly #metrics: VregMetrics;

  constructor(inner: UpstreamRegistry, metrics: VregMetrics) {
    this.#inner = inner;
    this.#metrics = metrics;
  }

  getManifest(
    target: UpstreamTarget,
    image: string,
    reference: string,
    opts?: ManifestRequestOptions,
  ): Promise<UpstreamResponse | undefined> {
    return this.#call('GET', 'manifest', target, image, reference, opts?.signal, () =>
      this.#inner.getManifest(target, image, reference, opts),
    );
  }

  headManifest(target: UpstreamTarget, image: string, reference: string, opts?: ManifestRequestOptions): Promise<UpstreamHead | undefined> {
    return this.#call('HEAD', 'manifest', target, image, reference, opts?.signal, () =>
      this.#inner.headManifest(target, image, reference, opts),
    );
  }

  getBlob(target: UpstreamTarget, image: string, digest: string, opts?: BlobRequestOptions): Promise<UpstreamResponse | undefined> {
    return this.#call('GET', 'blob', target, image, digest, opts?.signal, () => this.#inner.getBlob(target, image, digest, opts));
  }

  headBlob(target: UpstreamTarget, image: string, digest: string, opts?: HeadRequestOptions): Promise<UpstreamHead | undefined> {
    return this.#call('HEAD', 'blob', target, image, digest, opts?.signal, () => this.#inner.headBlob(target, image, digest, opts));
  }

  getTagList(
    target: UpstreamTarget,
    image: string,
    query: { n?: number; last?: string },
    opts?: HeadRequestOptions,
  ): Promise<UpstreamResponse | undefined> {
    return this.#call('GET', 'tags', target, image, undefined, opts?.signal, () => this.#inner.getTagList(target, image, query, opts));
  }

  getReferrers(
    target: UpstreamTarget,
    image: string,
    digest: string,
    query: { artifactType?: string },
    opts?: HeadRequestOptions,
  ): Promise<UpstreamResponse | undefined> {
    return this.#call('GET', 'referrers', target, image, digest, opts?.signal, () =>
      this.#inner.getReferrers(target, image, digest, query, opts),
    );
  }

  /** Passed through unmeasured: a test connection is an administrator's probe, not traffic, and must not move the upstream error rates. */
  ping(target: UpstreamTarget, opts?: PingOptions): Promise<UpstreamPing> {
    return this.#inner.ping(target, opts);
  }

  async #call<R extends UpstreamHead>(
    method: 'GET' | 'HEAD',
    kind: ObjectKindLabel,
    target: UpstreamTarget,
    image: string,
    reference: string | undefined,
    signal: AbortSignal | undefined,
    send: () => Promise<R | undefined>,
  ): Promise<R | undefined> {
    const upstream = upstreamLabel(target.url);
    const span = trace.getTracer(TRACER).startSpan(`upstream ${method} ${kind}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        'vreg.upstream': upstream,
        'vreg.image': image,
        ...(reference === undefined ? {} : { 'vreg.reference': reference }),
        ...(reference?.includes(':') ? { 'vreg.digest': reference } : {}),
      },
    });
    const started = performance.now();
    let result: R | undefined;
    try {
      result = await context.with(trace.setSpan(context.active(), span), send);
    } catch (err) {
      this.#metrics.upstreamAnswered(upstream, kind, (performance.now() - started) / 1000);
      this.#failed(upstream, span, err, signal);
      span.end();
      throw err;
    }
    this.#metrics.upstreamAnswered(upstream, kind, (performance.now() - started) / 1000);
    if (result === undefined) {
      span.setAttribute('vreg.upstream.found', false);
      span.end();
      return undefined;
    }
    span.setAttribute('vreg.upstream.found', true);
    const remaining = parseRateLimitRemaining(result.headers['ratelimit-remaining']);
    if (remaining !== undefined) {
      this.#metrics.rateLimitRemaining(upstream, remaining);
      span.setAttribute('vreg.upstream.ratelimit_remaining', remaining);
    }
    if (!('body' in result)) {
      span.end();
      return result;
    }
    const response = result as unknown as UpstreamResponse;
    return { ...response, body: this.#measured(response.body, upstream, span, signal) } as unknown as R;
  }

  /** The body, counted; the span ends with it. Errors keep their identity (pipeline forwards the same error). */
  #measured(body: Readable, upstream: string, span: Span, signal: AbortSignal | undefined): Readable {
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    pipeline(body, counter, (err) => {
      this.#metrics.upstreamBytes(upstream, bytes);
      span.setAttribute('vreg.bytes', bytes);
      if (err) this.#failed(upstream, span, err, signal);
      span.end();
    });
    return counter;
  }

  #failed(upstream: string, span: Span, err: unknown, signal: AbortSignal | undefined): void {
    const name = (err as { name?: unknown } | undefined)?.name;
    // Our own deadline or a departed client is not the upstream's fault.
    if (
      signal?.aborted ||
      name === 'AbortError' ||
      name === 'TimeoutError' ||
      (err as { code?: unknown })?.code === 'ERR_STREAM_PREMATURE_CLOSE'
    ) {
      span.setAttribute('vreg.cancelled', true);
      return;
    }
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
    this.#metrics.upstreamFailed(upstream, code, err instanceof Error ? err.message : undefined);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.setAttribute('error.type', code);
  }
}
