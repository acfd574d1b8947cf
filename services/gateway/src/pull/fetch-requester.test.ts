import { MemoryEventBus } from '@vreg/bus';
import { type FetchRequested, FetchRequestedSchema, Streams, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { FetchRequester } from './fetch-requester.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const blob = { kind: 'blob' as const, image: 'library/alpine', reference: `sha256:${'a'.repeat(64)}` };

describe('FetchRequester', () => {
  it('does not fail the pull when the bus is down, and publishes the request once the bus is back', async () => {
    // No streams yet: every publish fails, as while NATS is down.
    const bus = new MemoryEventBus({ logger });
    const requester = new FetchRequester(bus, logger, { firstRetryMs: 20, retryForMs: 5000 });
    await expect(requester.request('1', blob)).resolves.toBeUndefined();

    await new Promise((r) => setTimeout(r, 60));
    await bus.ensureStreams(Object.values(Streams));
    const received: FetchRequested[] = [];
    const sub = await bus.consume(
      { stream: Streams.fetch.name, consumer: 't', subject: Subjects.fetchRequested, schema: FetchRequestedSchema },
      async ({ data }) => {
        received.push(data);
      },
    );
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Later retries stop after the first success: the request lands once.
    await new Promise((r) => setTimeout(r, 200));
    expect(received.map((m) => m.object)).toEqual([blob]);
    await sub.stop();
    await bus.close();
  });
});

describe('FetchRequester during a long bus outage', () => {
  const other = { kind: 'blob' as const, image: 'library/alpine', reference: `sha256:${'b'.repeat(64)}` };
  const third = { kind: 'blob' as const, image: 'library/alpine', reference: `sha256:${'c'.repeat(64)}` };

  it('keeps one background retry per object however often it is missed, and at most maxPendingRetries in all', async () => {
    const bus = new MemoryEventBus({ logger }); // no streams: every publish fails
    const requester = new FetchRequester(bus, logger, { firstRetryMs: 60_000, retryForMs: 120_000, maxPendingRetries: 2 });
    for (let i = 0; i < 50; i++) await requester.request('1', blob);
    expect(requester.pendingRetries).toBe(1);
    await requester.request('1', other);
    await requester.request('1', third);
    expect(requester.pendingRetries).toBe(2);
    await bus.close();
  });
});
