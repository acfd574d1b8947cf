import { jetstreamManager } from '@nats-io/jetstream';
import { Streams } from '@vreg/contracts';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

async function openBus(namespace = randomNamespace()): Promise<{ bus: NatsEventBus; cleanup(): Promise<void> }> {
  const bus = await NatsEventBus.connect({ servers, namespace, replicas: 1, logger });
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
