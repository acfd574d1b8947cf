import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { type Span, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import { traceFieldsOf } from './log-trace-fields.ts';
import { OPS_PATHS, withoutQuery } from './url-redaction.ts';
import type { BytesSource, CacheResultLabel, ObjectKindLabel, VregMetrics } from './vreg-metrics.ts';

export interface RequestTelemetryOptions {
  metrics: VregMetrics;
}

/** The header the pull routes set on every manifest and blob answer. */
const CACHE_HEADER = 'x-vreg-cache';
const CACHE_RESULTS = new Set<string>(['hit', 'miss', 'stale', 'coalesced']);
const PULL_ROUTE_SUFFIX = '/virtual_registries/containers/:registryId/*';

/** `<image>/manifests/<ref>`, `<image>/blobs/<digest>`, `<image>/tags/list`, `<image>/referrers/<digest>`. */
const PULL_PATH = /^(.+)\/(manifests|blobs|tags|referrers)\/(.+)$/;
const PULL_KIND: Readonly<Record<string, { kind: ObjectKindLabel; route: string }>> = {
  manifests: { kind: 'manifest', route: ':name/manifests/:reference' },
  blobs: { kind: 'blob', route: ':name/blobs/:digest' },
  tags: { kind: 'tags', route: ':name/tags/list' },
  referrers: { kind: 'referrers', route: ':name/referrers/:digest' },
};

/** What a pull route resolved a request to, told to the telemetry by the route itself ({@link notePull}). */
export interface NotedPull {
  /** The registry id the pull went to. */
  registry: string;
  image: string;
  reference: string;
  kind: 'manifest' | 'blob' | 'tags' | 'referrers';
  /** The upstream host a root-path pull was routed by (a mirrored host, so a bounded label); absent on the prefixed path. */
  mirrorHost?: string;
}

const noted = new WeakMap<FastifyRequest, NotedPull>();

/**
 * Tells the request telemetry where a pull went, once its route resolved
 * it: the root path (`/v2/<name>/...`) names no registry, so the metrics,
 * span and log line could not read one off the URL.
 */
export function notePull(request: FastifyRequest, pull: NotedPull): void {
  noted.set(request, pull);
}

interface RequestState {
  startedAt: bigint;
  /** The request's server span (http instrumentation), if traced. */
  span: Span | undefined;
  bytes: number;
  coalesced: boolean;
  metrics: VregMetrics;
}

const states = new WeakMap<FastifyRequest, RequestState>();

/**
 * Per-request telemetry for a whole server (a `fastify-plugin`, so its
 * hooks see every route): `vreg_http_requests_total` by route template and
 * status; for pulls the cache result and the bytes actually written
 * (`vreg_cache_results_total`, `vreg_bytes_served_total`), also set on the
 * request's span; and one log line per request with trace and span ids,
 * cache result, bytes and duration, replacing fastify's two request logs.
 * Probes and scrapes are counted but not logged.
 */
export const requestTelemetry = fastifyPlugin<RequestTelemetryOptions>(
  async (app, options) => {
    const { metrics } = options;

    app.addHook('onRequest', async (request) => {
      states.set(request, { startedAt: process.hrtime.bigint(), span: trace.getActiveSpan(), bytes: 0, coalesced: false, metrics });
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const state = states.get(request);
      if (!state) return payload;
      describeBody(request, reply, state);
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        state.bytes = Buffer.byteLength(payload);
        state.span?.setAttribute('vreg.bytes', state.bytes);
        return payload;
      }
      if (payload instanceof Readable) return countBytes(payload, state);
      return payload;
    });

    app.addHook('onResponse', async (request, reply) => {
      const state = states.get(request);
      if (!state) return;
      states.delete(request);
      if (state.coalesced) metrics.coalescedWaiter(-1);
      const seconds = Number(process.hrtime.bigint() - state.startedAt) / 1e9;
      const route = routeOf(request);
      metrics.httpRequest(route, request.method, reply.statusCode, seconds);
      const pull = describePull(request, reply);
      const pulled = pull?.cache !== undefined && request.method === 'GET' && (reply.statusCode === 200 || reply.statusCode === 206);
      if (pulled && pull?.cache) {
        metrics.cacheResult(pull.cache, pull.registry, pull.kind, pull.mirrorHost);
        metrics.bytesServed(sourceOf(pull.cache), pull.registry, state.bytes, pull.mirrorHost);
      }
      if (OPS_PATHS.has(withoutQuery(request.url))) return;
      const fields = {
        method: request.method,
        route,
        url: withoutQuery(request.url),
        status: reply.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytes: state.bytes,
        ...(pull
          ? {
              registryId: pull.registry,
              ...(pull.mirrorHost === undefined ? {} : { mirrorHost: pull.mirrorHost }),
              ...(pull.cache ? { cache: pull.cache } : {}),
            }
          : {}),
        ...traceFieldsOf(state.span),
      };
      if (reply.statusCode >= 500) request.log.error(fields, 'request completed');
      else request.log.info(fields, 'request completed');
    });
  },
  { name: 'vreg-request-telemetry', fastify: '5.x' },
);

/**
 * For a route that writes its body to `reply.raw` itself after
 * `reply.hijack()` (blob answers, so no stream stage sits between the read
 * and the socket): records what the onSend hook records for other answers
 * (span attributes, the coalesced-waiter gauge) and returns what the route
 * calls with each chunk it wrote, and once before it ends the response
 * (the span is still open then). The request's metrics and log line come
 * from onResponse as usual, when the response finishes.
 */
export function streamedBody(request: FastifyRequest, reply: FastifyReply): StreamedBody {
  const state = states.get(request);
  if (!state) return { written: () => undefined, ending: () => undefined };
  describeBody(request, reply, state);
  return {
    written: (bytes) => {
      state.bytes += bytes;
    },
    ending: () => state.span?.setAttribute('vreg.bytes', state.bytes),
  };
}

/** What a route writing its own body reports; see {@link streamedBody}. */
export interface StreamedBody {
  /** `bytes` more were handed to the connection. */
  written(bytes: number): void;
  /** The last byte was written (or the body failed): before the response ends. */
  ending(): void;
}

/** Span attributes and the coalesced-waiter gauge, once the answer's headers are known. */
function describeBody(request: FastifyRequest, reply: FastifyReply, state: RequestState): void {
  const pull = describePull(request, reply);
  if (pull && state.span) {
    state.span.setAttributes({
      'vreg.registry.id': pull.registry,
      ...(pull.mirrorHost === undefined ? {} : { 'vreg.mirror.host': pull.mirrorHost }),
      'vreg.image': pull.image,
      'vreg.reference': pull.reference,
      ...(pull.kind === 'blob' || pull.reference.includes(':') ? { 'vreg.digest': pull.reference } : {}),
      ...(pull.cache ? { 'vreg.cache.result': pull.cache } : {}),
    });
  }
  if (pull?.cache === 'coalesced') {
    state.coalesced = true;
    state.metrics.coalescedWaiter(1);
  }
}

/** The route template, with the pull wildcard spelled out by object kind; `unmatched` for 404s of no route. */
function routeOf(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  if (url === undefined) return 'unmatched';
  const pull = noted.get(request);
  if (pull !== undefined && url.endsWith('/*')) return `${url.slice(0, -1)}${routeByKind[pull.kind]}`;
  if (!url.endsWith(PULL_ROUTE_SUFFIX)) return url;
  const match = PULL_PATH.exec((request.params as { '*'?: string })['*'] ?? '');
  const kind = match?.[2] === undefined ? undefined : PULL_KIND[match[2]];
  return kind ? `${url.slice(0, -1)}${kind.route}` : url;
}

const routeByKind: Readonly<Record<NotedPull['kind'], string>> = {
  manifest: ':name/manifests/:reference',
  blob: ':name/blobs/:digest',
  tags: ':name/tags/list',
  referrers: ':name/referrers/:digest',
};

interface PullDescription {
  registry: string;
  image: string;
  reference: string;
  kind: ObjectKindLabel;
  mirrorHost?: string;
  cache: CacheResultLabel | undefined;
}

/** Registry, image, reference and cache result of a pull; undefined for any other request. */
function describePull(request: FastifyRequest, reply: FastifyReply): PullDescription | undefined {
  const header = reply.getHeader(CACHE_HEADER);
  const cache = typeof header === 'string' && CACHE_RESULTS.has(header) ? (header as CacheResultLabel) : undefined;
  const pull = noted.get(request);
  if (pull !== undefined) return { ...pull, cache };
  if (!request.routeOptions.url?.endsWith(PULL_ROUTE_SUFFIX)) return undefined;
  const params = request.params as { registryId?: string; '*'?: string };
  const match = PULL_PATH.exec(params['*'] ?? '');
  if (!match || params.registryId === undefined) return undefined;
  const kind = PULL_KIND[match[2] ?? '']?.kind ?? 'other';
  return { registry: params.registryId, image: match[1] ?? '', reference: match[3] ?? '', kind, cache };
}

/** Hits and stale answers come from the blob store; misses and coalesced ones from an upstream download. */
function sourceOf(result: CacheResultLabel): BytesSource {
  return result === 'hit' || result === 'stale' ? 'cache' : 'upstream';
}

/**
 * Passes the body through unchanged, counting what the client is sent.
 * `pipeline` keeps backpressure and ties the two together: a client that
 * leaves destroys the source, a failing source fails the response.
 */
function countBytes(body: Readable, state: RequestState): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      state.bytes += chunk.length;
      callback(null, chunk);
    },
  });
  pipeline(body, counter, () => {
    // Ends before the response's 'finish': the span is still open.
    state.span?.setAttribute('vreg.bytes', state.bytes);
  });
  return counter;
}
