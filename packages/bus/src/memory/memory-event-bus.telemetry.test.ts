import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { MemoryEventBus } from './memory-event-bus.ts';

// One tracer provider for this file: the bus uses the global API, as any instrumented library does.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());

describe('MemoryEventBus trace context', () => {
  it('delivers a message as a child of its publisher span, carrying traceparent in the headers', async () => {
    const bus = new MemoryEventBus();
    await bus.ensureStreams([{ name: 'S', subjects: ['a.b'] }]);
    let seenHeaders: Readonly<Record<string, string>> = {};
    let handlerTrace = '';
    const handled = new Promise<void>((resolve) => {
      void bus.consume({ stream: 'S', consumer: 'c', subject: 'a.b', schema: z.object({ n: z.number() }) }, async (d) => {
        seenHeaders = d.headers;
        handlerTrace = trace.getActiveSpan()?.spanContext().traceId ?? '';
        resolve();
      });
    });
    const root = trace.getTracer('test').startSpan('request');
    await context.with(trace.setSpan(context.active(), root), () => bus.publish('a.b', { n: 1 }));
    root.end();
    await handled;
    // The consumer span ends after the handler returns: waited for, not slept on.
    const finished = (name: string, kind: SpanKind) => exporter.getFinishedSpans().find((s) => s.name === name && s.kind === kind);
    await vi.waitFor(() => expect(finished('process a.b', SpanKind.CONSUMER)).toBeDefined(), { timeout: 10_000, interval: 5 });
    const send = finished('send a.b', SpanKind.PRODUCER);
    const process = finished('process a.b', SpanKind.CONSUMER);
    expect(send?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(handlerTrace).toBe(root.spanContext().traceId);
    expect(seenHeaders.traceparent).toMatch(new RegExp(`^00-${root.spanContext().traceId}-`));
    await bus.close();
  });

  it('answers a request as a child of the requester span', async () => {
    exporter.reset();
    const bus = new MemoryEventBus();
    await bus.serve('q.r', z.object({}), async () => ({ ok: 1 }));
    const root = trace.getTracer('test').startSpan('request');
    await context.with(trace.setSpan(context.active(), root), () => bus.request('q.r', {}, { schema: z.object({ ok: z.number() }) }));
    root.end();
    const spans = exporter.getFinishedSpans();
    const client = spans.find((s) => s.name === 'request q.r' && s.kind === SpanKind.CLIENT);
    const server = spans.find((s) => s.name === 'process q.r' && s.kind === SpanKind.SERVER);
    expect(client?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    await bus.close();
  });
});
