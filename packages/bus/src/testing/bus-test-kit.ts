import { Streams, Subjects } from '@vreg/contracts';
import { z } from 'zod';
import type { ConsumeSpec, Delivery, EventBus, Subscription } from '../event-bus.ts';

/** The stream every contract case publishes to. */
export const testStream = { name: 'VREG_TEST', subjects: ['vreg.test.>'] } as const;

/** A command stream: each message is gone once its one consumer group has it done. */
export const testWorkStream = { name: 'VREG_TEST_WORK', subjects: ['vreg.testwork.>'], retention: 'workqueue' } as const;

/** The event the contract cases publish. */
export const TestEventSchema = z.object({ eventId: z.string(), n: z.number().int() });
export type TestEvent = z.infer<typeof TestEventSchema>;

/** A consume spec on the test stream with fast retries. */
export function testSpec(overrides: Partial<ConsumeSpec<TestEvent>> = {}): ConsumeSpec<TestEvent> {
  return {
    stream: testStream.name,
    consumer: 'contract',
    subject: 'vreg.test.>',
    schema: TestEventSchema,
    maxDeliver: 5,
    ackWaitMs: 5000,
    concurrency: 4,
    backoffBaseMs: 20,
    ...overrides,
  };
}

/** Resolves once `check` returns true; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a recorded delivery looked like. */
export interface Seen<T> {
  subject: string;
  data: T;
  deliveryCount: number;
  headers: Record<string, string>;
}

/** Copies a delivery's observable fields. */
export function seen<T>(d: Delivery<T>): Seen<T> {
  return { subject: d.subject, data: d.data, deliveryCount: d.deliveryCount, headers: { ...d.headers } };
}

/** Consumes the dead-letter stream into an array. */
export async function watchDeadLetters(bus: EventBus): Promise<{ letters: Seen<unknown>[]; subscription: Subscription }> {
  const letters: Seen<unknown>[] = [];
  const subscription = await bus.consume(
    {
      stream: Streams.dead.name,
      consumer: 'dead-letter-watch',
      subject: `${Subjects.deadLetterPrefix}.>`,
      schema: z.unknown(),
      backoffBaseMs: 20,
    },
    async (d) => {
      letters.push(seen(d));
    },
  );
  return { letters, subscription };
}
