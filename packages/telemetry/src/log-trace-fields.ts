import { type Span, trace } from '@opentelemetry/api';

/** `trace_id`/`span_id` of a span, for log lines; empty when the span is not being recorded. */
export function traceFieldsOf(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const ctx = span?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * A pino `mixin`: every log line written while a span is active carries its
 * trace and span ids, so logs and traces join up.
 */
export function logTraceFields(): { trace_id?: string; span_id?: string } {
  return traceFieldsOf(trace.getActiveSpan());
}
