import { MemoryEventBus } from '@vreg/bus';
import { ErrorCodes, Streams, Subjects } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveEventBus } from './event-bus-host.ts';
import { IpcEventBus } from './ipc-event-bus.ts';
import { IpcLink } from './ipc-link.ts';
import { endpointPair } from './testing/endpoint-pair.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

async function rig() {
  const bus = new MemoryEventBus();
  await bus.ensureStreams(Object.values(Streams));
  const { primary, worker } = endpointPair();
  const detach = serveEventBus(new IpcLink(primary), bus);
  const workerBus = new IpcEventBus(new IpcLink(worker), logger);
  return { bus, workerBus, detach };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('IpcEventBus', () => {
  it("publishes into the primary's bus, where its consumers get the event", async () => {
    const { bus, workerBus } = await rig();
    cleanups.push(() => bus.close());
    const seen: unknown[] = [];
    const got = new Promise<void>((resolve) => {
      void bus.consume({ stream: Streams.served.name, consumer: 'test', subject: Subjects.entryServed, schema: z.unknown() }, async (d) => {
        seen.push(d.data);
        resolve();
      });
    });
    expect(await workerBus.publish(Subjects.entryServed, { n: 1 }, { msgId: 'one' })).toEqual({ duplicate: false });
    expect(await workerBus.publish(Subjects.entryServed, { n: 1 }, { msgId: 'one' })).toEqual({ duplicate: true });
    await got;
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('asks the responders of the primary, validates with its own schema and keeps error codes', async () => {
    const { bus, workerBus } = await rig();
    cleanups.push(() => bus.close());
    await bus.serve('test.echo', z.object({ x: z.number() }), async (req) => {
      if (req.x < 0) throw Object.assign(new Error('negative'), { code: ErrorCodes.nameUnknown });
      return { doubled: req.x * 2 };
    });
    expect(await workerBus.request('test.echo', { x: 2 }, { schema: z.object({ doubled: z.number() }) })).toEqual({ doubled: 4 });
    await expect(workerBus.request('test.echo', { x: -1 }, { schema: z.unknown() })).rejects.toMatchObject({
      code: ErrorCodes.nameUnknown,
    });
    await expect(workerBus.request('test.echo', { x: 2 }, { schema: z.object({ other: z.string() }) })).rejects.toMatchObject({
      code: ErrorCodes.internal,
    });
    await expect(workerBus.request('test.nobody', {}, { schema: z.unknown(), timeoutMs: 200 })).rejects.toMatchObject({
      code: ErrorCodes.catalogUnavailable,
    });
  });

  it('hears broadcasts made in the primary and makes its own, until it stops listening', async () => {
    const { bus, workerBus, detach } = await rig();
    cleanups.push(() => bus.close());
    const heard: unknown[] = [];
    const subscription = await workerBus.listen('test.hint', z.object({ id: z.string() }), (m) => heard.push(m));
    const inPrimary: unknown[] = [];
    await bus.listen('test.hint', z.unknown(), (m) => inPrimary.push(m));
    await bus.broadcast('test.hint', { id: 'a' });
    await workerBus.broadcast('test.hint', { id: 'b' });
    await expect.poll(() => heard).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(inPrimary).toEqual([{ id: 'a' }, { id: 'b' }]);
    await subscription.stop();
    await bus.broadcast('test.hint', { id: 'c' });
    await new Promise((r) => setTimeout(r, 20));
    expect(heard).toHaveLength(2);
    await detach();
  });

  it('refuses to consume or serve: those run in the primary', async () => {
    const { bus, workerBus } = await rig();
    cleanups.push(() => bus.close());
    await expect(
      workerBus.consume({ stream: 'x', consumer: 'c', subject: 's', schema: z.unknown() }, async () => undefined),
    ).rejects.toThrow('primary');
    await expect(workerBus.serve('s', z.unknown(), async () => undefined)).rejects.toThrow('primary');
  });
});
