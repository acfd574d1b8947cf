import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { isRetryLater } from '@vreg/contracts';

/**
 * W3C trace context on bus messages: written once here and used by every
 * `EventBus` adapter, since nats.js has no OpenTelemetry instrumentation.
 * The producer's span context rides in the `traceparent`/`tracestate`
 * headers; consumers and responders continue the trace as its children, so a
 * cache miss is one trace across gateway, fetcher and catalog.
 *
 * With no tracer provider registered (telemetry off) every span here is a
 * no-op and nothing is injected.
 */
const propagator = new W3CTraceContextPropagator();
const TRACER = '@vreg/bus';

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

// Header names are matched without regard to case: transports may canonicalize them.
const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const direct = carrier[key];
    if (direct !== undefined) return direct;
    const lower = key.toLowerCase();
    for (const [k, v] of Object.entries(carrier)) if (k.toLowerCase() === lower) return v;
    return undefined;
  },
};

/** `headers` plus the trace context of `ctx` (the active one by default); `headers` itself when there is none. */
export function injectTraceContext(
  headers: Readonly<Record<string, string>> | undefined,
  ctx: Context = context.active(),
): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  if (Object.keys(carrier).length === 0) return headers === undefined ? undefined : { ...headers };
  return { ...headers, ...carrier };
}

/** The context a message's headers carry (the root context when they carry none). */
export function extractTraceContext(headers: Readonly<Record<string, string>> | undefined): Context {
  return propagator.extract(ROOT_CONTEXT, headers ?? {}, getter);
}

/** Span attributes of a bus operation, following the messaging semantic conventions. */
function messagingAttributes(subject: string, operation: string, extra: Attributes = {}): Attributes {
  return { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': operation, ...extra };
}

async function inSpan<T>(span: Span, ctx: Context, run: () => Promise<T>, failed?: (value: T) => string | undefined): Promise<T> {
  try {
    const value = await context.with(ctx, run);
    const problem = failed?.(value);
    if (problem !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: problem });
    return value;
  } catch (err) {
    // "Not ready yet" (another process is filling) is no failure: the message comes back later.
    if (isRetryLater(err)) {
      span.setAttribute('vreg.retry_later', true);
      throw err;
    }
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A durable publish: a PRODUCER span whose context goes into the message's
 * headers. `publish` receives the headers to send.
 */
export function tracePublish<T>(
  subject: string,
  headers: Record<string, string> | undefined,
  attributes: Attributes,
  publish: (headers: Record<string, string> | undefined) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  const span = tracer.startSpan(`send ${subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: messagingAttributes(subject, 'send', attributes),
  });
  const ctx = trace.setSpan(context.active(), span);
  return inSpan(span, ctx, () => publish(injectTraceContext(headers, ctx)));
}

/** A request/reply call: a CLIENT span whose context goes into the request's headers. */
export function traceRequest<T>(
  subject: string,
  headers: Record<string, string> | undefined,
  request: (headers: Record<string, string> | undefined) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  const span = tracer.startSpan(`request ${subject}`, { kind: SpanKind.CLIENT, attributes: messagingAttributes(subject, 'send') });
  const ctx = trace.setSpan(context.active(), span);
  return inSpan(span, ctx, () => request(injectTraceContext(headers, ctx)));
}

/**
 * One delivery to a durable consumer: a CONSUMER span, child of the
 * publisher's span, active while the handler runs.
 */
export function traceDelivery<T>(
  subject: string,
  headers: Readonly<Record<string, string>>,
  info: { stream: string; consumer: string; deliveryCount: number; msgId?: string | undefined },
  handle: () => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  const span = trace.getTracer(TRACER).startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: messagingAttributes(subject, 'process', {
        'messaging.consumer.group.name': info.consumer,
        'vreg.stream': info.stream,
        'vreg.delivery_count': info.deliveryCount,
        ...(info.msgId === undefined ? {} : { 'messaging.message.id': info.msgId }),
      }),
    },
    parent,
  );
  return inSpan(span, trace.setSpan(parent, span), handle);
}

/**
 * Answering one request: a SERVER span, child of the requester's span.
 * `errorOf` names the error code of a reply that reports a failure.
 */
export function traceAnswer<T>(
  subject: string,
  headers: Readonly<Record<string, string>>,
  answer: () => Promise<T>,
  errorOf?: (reply: T) => string | undefined,
): Promise<T> {
  const parent = extractTraceContext(headers);
  const span = trace
    .getTracer(TRACER)
    .startSpan(`process ${subject}`, { kind: SpanKind.SERVER, attributes: messagingAttributes(subject, 'process') }, parent);
  return inSpan(span, trace.setSpan(parent, span), answer, errorOf);
}
