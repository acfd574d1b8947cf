import { jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { Consumers, type StreamLimits, Streams, Subjects } from '@vreg/contracts';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeadLetterHeaders } from '../dead-letter.ts';
import { sleep, testSpec, testStream, waitFor } from '../testing/bus-test-kit.ts';
import { describeEventBus } from '../testing/describe-event-bus.ts';
import type { NatsTestServer } from '../testing/nats-test-server.ts';
import { acquireNatsTestServer, dropNamespace, randomNamespace, startNatsServer } from '../testing/nats-test-server.ts';
import { NatsEventBus } from './nats-event-bus.ts';

const logger = pino({ level: process.env.VREG_TEST_LOG_LEVEL ?? 'silent' });
let servers: string[] = [];
let release: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ servers, release } = await acquireNatsTestServer());
});
afterAll(async () => {
  await release();
});

async function openBus(
  namespace = randomNamespace(),
  streamLimits?: Partial<StreamLimits>,
): Promise<{ bus: NatsEventBus; cleanup(): Promise<void> }> {
  const bus = await NatsEventBus.connect({ servers, namespace, replicas: 1, logger, ...(streamLimits ? { streamLimits } : {}) });
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      await dropNamespace(servers, namespace);
    },
  };
}

describeEventBus('nats', () => openBus());

describe('NatsEventBus', () => {
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  it('delivers later the messages published while no subscription ran (durable consumer)', async () => {
    const { bus, cleanup } = await openBus();
    cleanups.push(cleanup);
    await bus.ensureStreams([testStream]);
    const got: string[] = [];
    const first = await bus.consume(testSpec(), async (d) => void got.push(d.data.eventId));
    await bus.publish('vreg.test.a', { eventId: 'before', n: 0 });
    await waitFor(() => got.length === 1);
    await first.stop();
    for (let n = 1; n <= 3; n += 1) await bus.publish('vreg.test.a', { eventId: `while-stopped-${n}`, n });
    await sleep(300);
    expect(got).toEqual(['before']);
    await bus.consume(testSpec(), async (d) => void got.push(d.data.eventId));
    await waitFor(() => got.length === 4);
    await sleep(200);
    expect(got.sort()).toEqual(['before', 'while-stopped-1', 'while-stopped-2', 'while-stopped-3']);
  });

  it('dead-letters a payload that is not JSON byte for byte', async () => {
    const namespace = randomNamespace();
    const { bus, cleanup } = await openBus(namespace);
    cleanups.push(cleanup);
    await bus.ensureStreams([testStream]);
    await bus.consume(testSpec(), async () => undefined);
    bus.connection.publish(`${namespace}.vreg.test.raw`, 'not json {');
    const jsm = await jetstreamManager(bus.connection);
    const lastDead = async () =>
      await jsm.streams
        .getMessage(`${namespace}_${Streams.dead.name}`, { last_by_subj: `${namespace}.vreg.dead.vreg.test.raw` })
        .catch(() => null);
    let letter = await lastDead();
    for (let i = 0; i < 100 && letter === null; i += 1) {
      await sleep(50);
      letter = await lastDead();
    }
    expect(letter?.string()).toBe('not json {');
    expect(letter?.header.get(DeadLetterHeaders.error)).toMatch(/invalid payload/);
    expect(letter?.header.get(DeadLetterHeaders.stream)).toBe(testStream.name);
  });

  it('re-creates its durable consumer when someone deletes it', async () => {
    const namespace = randomNamespace();
    const { bus, cleanup } = await openBus(namespace);
    cleanups.push(cleanup);
    await bus.ensureStreams([testStream]);
    const got = new Set<string>();
    await bus.consume(testSpec(), async (d) => void got.add(d.data.eventId));
    await bus.publish('vreg.test.a', { eventId: 'one', n: 1 });
    await waitFor(() => got.has('one'));
    const jsm = await jetstreamManager(bus.connection);
    await jsm.consumers.delete(`${namespace}_${testStream.name}`, `${namespace}_contract`);
    await sleep(300);
    await bus.publish('vreg.test.a', { eventId: 'two', n: 2 });
    await waitFor(() => got.has('two'), 30_000, 'the message published after the deletion');
  });

  describe('stream retention and bounds', () => {
    const fetchSpec = () => ({
      stream: Streams.fetch.name,
      consumer: Consumers.fetcher,
      subject: Subjects.fetchRequested,
      schema: z.object({ n: z.number() }),
    });

    it('keeps a command only until its consumer acks it, and an event within its bounds whatever the acks', async () => {
      const namespace = randomNamespace();
      const { bus, cleanup } = await openBus(namespace, { maxBytes: 8 << 20, maxMessages: 5000, maxAgeMs: 3_600_000 });
      cleanups.push(cleanup);
      await bus.ensureStreams([Streams.fetch, Streams.objects]);
      const jsm = await jetstreamManager(bus.connection);
      const fetch = await jsm.streams.info(`${namespace}_${Streams.fetch.name}`);
      expect(fetch.config).toMatchObject({ retention: 'workqueue', max_bytes: 8 << 20, max_msgs: 5000, discard: 'old' });
      expect(fetch.config.max_age).toBe(3_600_000 * 1_000_000);
      const objects = await jsm.streams.info(`${namespace}_${Streams.objects.name}`);
      expect(objects.config).toMatchObject({ retention: 'limits', max_bytes: 8 << 20, max_msgs: 5000 });
      // The dead letters keep their own age, within the same bounds.
      const dead = await jsm.streams.info(`${namespace}_${Streams.dead.name}`);
      expect(dead.config).toMatchObject({ retention: 'limits', max_bytes: 8 << 20, max_age: 30 * 86_400_000 * 1_000_000 });

      const done: number[] = [];
      await bus.consume(fetchSpec(), async (d) => void done.push(d.data.n));
      await bus.consume(
        {
          stream: Streams.objects.name,
          consumer: Consumers.catalogObjects,
          subject: Subjects.objectStored,
          schema: z.object({ n: z.number() }),
        },
        async (d) => void done.push(d.data.n),
      );
      await bus.publish(Subjects.fetchRequested, { n: 1 });
      await bus.publish(Subjects.objectStored, { n: 2 });
      await waitFor(() => done.length === 2);
      await waitFor(
        async () => (await jsm.streams.info(`${namespace}_${Streams.fetch.name}`)).state.messages === 0,
        10_000,
        'the acked command gone',
      );
      expect((await jsm.streams.info(`${namespace}_${Streams.objects.name}`)).state.messages).toBe(1);
    });

    it('refuses a second consumer group on a command stream, as a work queue must', async () => {
      const { bus, cleanup } = await openBus();
      cleanups.push(cleanup);
      await bus.ensureStreams([Streams.fetch]);
      await bus.consume(fetchSpec(), async () => undefined);
      await expect(bus.consume({ ...fetchSpec(), consumer: 'another-group' }, async () => undefined)).rejects.toMatchObject({
        code: 'INTERNAL',
      });
    });

    it('moves a stream made with limits retention to workqueue once its consumer processed every message, and not before', async () => {
      const namespace = randomNamespace();
      const { bus, cleanup } = await openBus(namespace);
      cleanups.push(cleanup);
      const jsm = await jetstreamManager(bus.connection);
      const name = `${namespace}_${Streams.fetch.name}`;
      // As an older vreg made it: limits retention, no bounds but age.
      await jsm.streams.add({
        name,
        subjects: [`${namespace}.${Subjects.fetchRequested}`],
        retention: RetentionPolicy.Limits,
        max_age: nanos(7 * 86_400_000),
      });
      await bus.publish(Subjects.fetchRequested, { n: 1 });

      // Not yet read by any consumer: the old stream stays, with the new bounds.
      await bus.ensureStreams([Streams.fetch]);
      let info = await jsm.streams.info(name);
      expect(info.config.retention).toBe('limits');
      expect(info.config.max_bytes).toBe(256 << 20);
      expect(info.state.messages).toBe(1);

      // Processed (acked, yet kept by limits retention): made anew as a work queue.
      const done: number[] = [];
      const sub = await bus.consume(fetchSpec(), async (d) => void done.push(d.data.n));
      await waitFor(() => done.length === 1);
      await waitFor(
        async () => (await jsm.consumers.info(name, `${namespace}_${Consumers.fetcher}`)).num_ack_pending === 0,
        10_000,
        'the ack',
      );
      await sub.stop();
      await bus.ensureStreams([Streams.fetch]);
      info = await jsm.streams.info(name);
      expect(info.config.retention).toBe('workqueue');
      expect(info.state.messages).toBe(0);

      // The consumer comes back on the new stream, and commands flow again.
      await bus.consume(fetchSpec(), async (d) => void done.push(d.data.n));
      await bus.publish(Subjects.fetchRequested, { n: 2 });
      await waitFor(() => done.includes(2), 30_000, 'a command on the new stream');
    });
  });

  describe('across a nats-server restart', () => {
    let server: NatsTestServer;
    beforeAll(async () => {
      server = await startNatsServer(); // always private: this test kills it
    });
    afterAll(async () => {
      await server.dispose();
    });

    it('resumes consuming by itself and loses no message', async () => {
      const bus = await NatsEventBus.connect({ servers: [server.url], namespace: randomNamespace(), replicas: 1, logger });
      cleanups.push(() => bus.close());
      await bus.ensureStreams([testStream]);
      const handled = new Set<string>();
      await bus.consume(testSpec({ concurrency: 2, ackWaitMs: 2000 }), async (d) => {
        await sleep(100);
        handled.add(d.data.eventId);
      });
      const ids = (prefix: string) => Array.from({ length: 10 }, (_, i) => `${prefix}-${i}`);
      for (const [n, eventId] of ids('before').entries()) await bus.publish('vreg.test.a', { eventId, n }, { msgId: eventId });
      await waitFor(() => handled.size >= 3, 10_000, 'a few deliveries');
      expect(handled.size).toBeLessThan(10); // the kill lands mid-batch, with messages in flight

      await server.kill();
      await sleep(500);
      await server.start();

      for (const [n, eventId] of ids('after').entries()) await publishWithRetry(bus, eventId, n);
      await waitFor(() => handled.size === 20, 60_000, `all 20 messages (have ${handled.size})`);
      expect([...handled].sort()).toEqual([...ids('before'), ...ids('after')].sort());
    });
  });
});

// The client reconnects in the background (every 2 s by default): a publish
// in that gap fails with BusUnavailableError, and the caller retries.
async function publishWithRetry(bus: NatsEventBus, eventId: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await bus.publish('vreg.test.a', { eventId, n }, { msgId: eventId });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}
