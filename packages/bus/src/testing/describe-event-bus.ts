import { AppError, ErrorCodes } from '@vreg/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeadLetterHeaders } from '../dead-letter.ts';
import type { EventBus } from '../event-bus.ts';
import { PermanentFailure } from '../event-bus.ts';
import type { Seen, TestEvent } from './bus-test-kit.ts';
import { seen, sleep, testSpec, testStream, testWorkStream, waitFor, watchDeadLetters } from './bus-test-kit.ts';
import { describeRequestReply } from './describe-request-reply.ts';

/** A bus under test and how to tear it down (close it, drop its streams). */
export interface EventBusFixture {
  bus: EventBus;
  cleanup(): Promise<void>;
}

/**
 * The `EventBus` contract, run against every adapter: a fresh bus per case,
 * made by `make` (the NATS adapter under its own namespace).
 */
export function describeEventBus(name: string, make: () => Promise<EventBusFixture>): void {
  describe(`EventBus contract: ${name}`, () => {
    let fixture: EventBusFixture;
    let bus: EventBus;

    beforeEach(async () => {
      fixture = await make();
      bus = fixture.bus;
      await bus.ensureStreams([testStream]);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('delivers a published event once and does not redeliver it after the ack', async () => {
      const got: Seen<TestEvent>[] = [];
      await bus.consume(testSpec({ ackWaitMs: 1000 }), async (d) => {
        got.push(seen(d));
      });
      expect(await bus.publish('vreg.test.a', { eventId: 'e1', n: 1 })).toEqual({ duplicate: false });
      await waitFor(() => got.length === 1, 10_000, 'the delivery');
      await sleep(1500); // past the ack wait: an unacked message would be back by now
      expect(got).toEqual([{ subject: 'vreg.test.a', data: { eventId: 'e1', n: 1 }, deliveryCount: 1, headers: {} }]);
    });

    it('drops a second publish with the same msgId inside the dedup window', async () => {
      const got: string[] = [];
      await bus.consume(testSpec(), async (d) => {
        got.push(d.data.eventId);
      });
      expect(await bus.publish('vreg.test.a', { eventId: 'first', n: 1 }, { msgId: 'm-1' })).toEqual({ duplicate: false });
      expect(await bus.publish('vreg.test.a', { eventId: 'again', n: 1 }, { msgId: 'm-1' })).toEqual({ duplicate: true });
      await bus.publish('vreg.test.a', { eventId: 'sentinel', n: 2 }, { msgId: 'm-2' });
      await waitFor(() => got.includes('sentinel'), 10_000, 'the sentinel');
      await sleep(100);
      expect(got.sort()).toEqual(['first', 'sentinel']);
    });

    it('redelivers a message whose handler failed, with deliveryCount 2', async () => {
      const counts: number[] = [];
      await bus.consume(testSpec(), async (d) => {
        counts.push(d.deliveryCount);
        if (d.deliveryCount === 1) throw new Error('transient');
      });
      await bus.publish('vreg.test.a', { eventId: 'e1', n: 1 });
      await waitFor(() => counts.length === 2, 10_000, 'the redelivery');
      await sleep(200);
      expect(counts).toEqual([1, 2]);
    });

    it('dead-letters a PermanentFailure at once and never redelivers it', async () => {
      const dead = await watchDeadLetters(bus);
      let calls = 0;
      await bus.consume(testSpec(), async () => {
        calls += 1;
        throw new PermanentFailure('upstream says no such image');
      });
      await bus.publish('vreg.test.perm', { eventId: 'e1', n: 1 }, { headers: { traceparent: 't-1' } });
      await waitFor(() => dead.letters.length === 1, 10_000, 'the dead letter');
      await sleep(300);
      expect(calls).toBe(1);
      const [letter] = dead.letters;
      expect(letter?.subject).toBe('vreg.dead.vreg.test.perm');
      expect(letter?.data).toEqual({ eventId: 'e1', n: 1 });
      expect(letter?.headers[DeadLetterHeaders.error]).toContain('upstream says no such image');
      expect(letter?.headers[DeadLetterHeaders.stream]).toBe(testStream.name);
      expect(letter?.headers.traceparent).toBe('t-1');
    });

    it('dead-letters a payload failing the schema without calling the handler', async () => {
      const dead = await watchDeadLetters(bus);
      let calls = 0;
      await bus.consume(testSpec(), async () => {
        calls += 1;
      });
      await bus.publish('vreg.test.bad', { eventId: 42 });
      await waitFor(() => dead.letters.length === 1, 10_000, 'the dead letter');
      expect(calls).toBe(0);
      expect(dead.letters[0]?.data).toEqual({ eventId: 42 });
      expect(dead.letters[0]?.headers[DeadLetterHeaders.error]).toMatch(/invalid payload/);
      expect(dead.letters[0]?.headers[DeadLetterHeaders.stream]).toBe(testStream.name);
    });

    it('dead-letters a message on its last allowed delivery and stops there', async () => {
      const dead = await watchDeadLetters(bus);
      const counts: number[] = [];
      await bus.consume(testSpec({ maxDeliver: 3, backoffBaseMs: 10 }), async (d) => {
        counts.push(d.deliveryCount);
        throw new Error('still failing');
      });
      await bus.publish('vreg.test.a', { eventId: 'e1', n: 1 });
      await waitFor(() => dead.letters.length === 1, 10_000, 'the dead letter');
      await sleep(500);
      expect(counts).toEqual([1, 2, 3]);
      expect(dead.letters[0]?.headers[DeadLetterHeaders.error]).toMatch(/still failing/);
      expect(dead.letters[0]?.headers[DeadLetterHeaders.deliveryCount]).toBe('3');
    });

    it('redelivers a message not acked within the ack wait, unless the handler reports working()', async () => {
      const counts = new Map<string, number[]>();
      const record = (id: string, n: number): void => void counts.set(id, [...(counts.get(id) ?? []), n]);
      await bus.consume(testSpec({ ackWaitMs: 600, concurrency: 4 }), async (d) => {
        record(d.data.eventId, d.deliveryCount);
        if (d.deliveryCount > 1) return;
        for (let i = 0; i < 8; i += 1) {
          await sleep(200);
          if (d.data.eventId === 'busy') d.working();
        }
      });
      await bus.publish('vreg.test.a', { eventId: 'slow', n: 1 });
      await bus.publish('vreg.test.a', { eventId: 'busy', n: 2 });
      await waitFor(() => (counts.get('slow') ?? []).length === 2, 10_000, 'the redelivery of the slow one');
      await sleep(1500);
      expect(counts.get('slow')?.slice(0, 2)).toEqual([1, 2]);
      expect(counts.get('busy')).toEqual([1]);
    });

    it('shares one durable consumer between two subscriptions: each message is handled once', async () => {
      const handled: string[] = [];
      const handler = async (d: { data: TestEvent }): Promise<void> => {
        await sleep(5);
        handled.push(d.data.eventId);
      };
      await bus.consume(testSpec({ consumer: 'shared', concurrency: 2 }), handler);
      await bus.consume(testSpec({ consumer: 'shared', concurrency: 2 }), handler);
      const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
      for (const [n, eventId] of ids.entries()) await bus.publish('vreg.test.a', { eventId, n });
      await waitFor(() => handled.length >= ids.length, 15_000, 'all messages');
      await sleep(300);
      expect(handled.sort()).toEqual([...ids].sort());
    });

    it('passes headers through untouched and hides the server’s own', async () => {
      const got: Seen<TestEvent>[] = [];
      await bus.consume(testSpec(), async (d) => {
        got.push(seen(d));
      });
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await bus.publish('vreg.test.a', { eventId: 'e1', n: 1 }, { msgId: 'with-headers', headers: { traceparent, 'x-vreg-test': 'yes' } });
      await waitFor(() => got.length === 1, 10_000, 'the delivery');
      expect(got[0]?.headers).toEqual({ traceparent, 'x-vreg-test': 'yes' });
    });

    it('stops a subscription only after its handlers in progress finished', async () => {
      let finished = false;
      let started = false;
      const sub = await bus.consume(testSpec(), async () => {
        started = true;
        await sleep(300);
        finished = true;
      });
      await bus.publish('vreg.test.a', { eventId: 'e1', n: 1 });
      await waitFor(() => started, 10_000, 'the handler');
      await sub.stop();
      expect(finished).toBe(true);
    });

    it('refuses a publish no stream captures with an INTERNAL AppError', async () => {
      const err = await bus.publish('vreg.nowhere.a', { n: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe(ErrorCodes.internal);
    });

    it('broadcasts to every listener (each replica its own copy), drops payloads failing the schema, and stops after stop()', async () => {
      const schema = z.object({ n: z.number() });
      const first: number[] = [];
      const second: number[] = [];
      const a = await bus.listen('vreg.test.hint', schema, (m) => first.push(m.n));
      await bus.listen('vreg.test.hint', schema, (m) => second.push(m.n));
      await bus.broadcast('vreg.test.hint', { n: 'not a number' });
      await bus.broadcast('vreg.test.hint', { n: 1 });
      await waitFor(() => first.length === 1 && second.length === 1, 10_000, 'both listeners');
      await a.stop();
      await bus.broadcast('vreg.test.hint', { n: 2 });
      await waitFor(() => second.length === 2, 10_000, 'the second broadcast');
      expect(first).toEqual([1]);
      expect(second).toEqual([1, 2]);
    });

    it('gives a work-queue stream one consumer group: each message to it once, a second group refused', async () => {
      await bus.ensureStreams([testWorkStream]);
      const spec = testSpec({ stream: testWorkStream.name, consumer: 'workers', subject: 'vreg.testwork.>' });
      const got: string[] = [];
      await bus.consume(spec, async (d) => void got.push(d.data.eventId));
      await bus.consume(spec, async (d) => void got.push(d.data.eventId)); // a second replica of the same group
      for (let n = 0; n < 6; n += 1) await bus.publish('vreg.testwork.a', { eventId: `w${n}`, n });
      await waitFor(() => got.length === 6, 10_000, 'six commands');
      await sleep(200);
      expect(got.sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
      await expect(bus.consume({ ...spec, consumer: 'another-group' }, async () => undefined)).rejects.toMatchObject({
        code: ErrorCodes.internal,
      });
    });

    describeRequestReply(() => bus);
  });
}
