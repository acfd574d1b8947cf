import type { EventBus, PublishOptions, Subscription } from '@vreg/bus';
import { z } from 'zod';
import type { IpcLink } from './ipc-link.ts';
import { BusKinds } from './kinds.ts';

const anything = z.unknown();

/**
 * The primary's side of `IpcEventBus`: a worker's publishes, requests and
 * broadcasts go to `bus`, and broadcasts on subjects it listens to come
 * back as notices. Returns the cleanup to run when the worker exits (its
 * listeners stop).
 */
export function serveEventBus(link: IpcLink, bus: EventBus): () => Promise<void> {
  const listening = new Map<string, Subscription>();
  link.handle(BusKinds.publish, (body) => {
    const { subject, payload, options } = body as { subject: string; payload: unknown; options: PublishOptions };
    return bus.publish(subject, payload, options);
  });
  link.handle(BusKinds.request, (body) => {
    const { subject, payload, timeoutMs, headers } = body as {
      subject: string;
      payload: unknown;
      timeoutMs: number;
      headers?: Record<string, string>;
    };
    // The worker validates the reply with its own schema; errors keep their codes across the link.
    return bus.request(subject, payload, { schema: anything, timeoutMs, ...(headers ? { headers } : {}) });
  });
  link.handle(BusKinds.broadcast, (body) => {
    const { subject, payload } = body as { subject: string; payload: unknown };
    return bus.broadcast(subject, payload);
  });
  link.handle(BusKinds.listen, async (body) => {
    const { subject } = body as { subject: string };
    if (listening.has(subject)) return;
    listening.set(subject, await bus.listen(subject, anything, (payload) => link.notify(BusKinds.message, { subject, payload })));
  });
  link.handle(BusKinds.unlisten, async (body) => {
    const { subject } = body as { subject: string };
    const subscription = listening.get(subject);
    listening.delete(subject);
    await subscription?.stop();
  });
  return async () => {
    const subscriptions = [...listening.values()];
    listening.clear();
    await Promise.all(subscriptions.map((s) => s.stop()));
  };
}
