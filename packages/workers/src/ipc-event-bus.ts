import {
  BusUnavailableError,
  type ConsumeSpec,
  type EventBus,
  type MessageHandler,
  type PublishOptions,
  type PublishResult,
  type RequestHandler,
  type RequestOptions,
  type Subscription,
} from '@vreg/bus';
import { AppError, CatalogUnavailableError, ErrorCodes } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { injectTraceContext } from '@vreg/telemetry';
import type { ZodType } from 'zod';
import { type IpcLink, IpcUnavailableError } from './ipc-link.ts';
import { BusKinds } from './kinds.ts';

/** Milliseconds a publish or broadcast may take through the primary before it counts as failed. */
const PUBLISH_TIMEOUT_MS = 10_000;
/** Added to a request's own timeout: the primary enforces that one, this only catches a primary that is gone. */
const REQUEST_MARGIN_MS = 2_000;

/**
 * The `EventBus` of a worker process in embedded mode: every call goes to
 * the primary's in-process bus over IPC (`serveEventBus` there), so workers
 * and the catalog, fetcher and each other share one bus, as replicas share
 * NATS. Publishing, request/reply, broadcasts and listening work; consuming
 * and serving stay with the primary (a worker runs only the gateway, which
 * does neither). The trace context rides in the headers, as over NATS.
 */
export class IpcEventBus implements EventBus {
  readonly #link: IpcLink;
  readonly #logger: Logger;
  readonly #listeners = new Map<string, Set<(payload: unknown) => void>>();

  constructor(link: IpcLink, logger: Logger) {
    this.#link = link;
    this.#logger = logger.child({ component: 'ipc-event-bus' });
    link.handle(BusKinds.message, (body) => {
      const { subject, payload } = body as { subject: string; payload: unknown };
      for (const deliver of this.#listeners.get(subject) ?? []) deliver(payload);
    });
  }

  /** The primary declared the streams before any worker started. */
  async ensureStreams(): Promise<void> {}

  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    try {
      return await this.#link.request<PublishResult>(
        BusKinds.publish,
        { subject, payload, options: { ...options, headers: injectTraceContext(options.headers) } },
        PUBLISH_TIMEOUT_MS,
      );
    } catch (err) {
      if (err instanceof IpcUnavailableError) throw new BusUnavailableError(`cannot publish to ${subject}: ${err.message}`, err);
      throw err;
    }
  }

  async request<T>(subject: string, payload: unknown, options: RequestOptions<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 2_000;
    let data: unknown;
    try {
      data = await this.#link.request(
        BusKinds.request,
        { subject, payload, timeoutMs, headers: injectTraceContext(options.headers) },
        timeoutMs + REQUEST_MARGIN_MS,
      );
    } catch (err) {
      if (err instanceof IpcUnavailableError) throw new CatalogUnavailableError(`no reply on ${subject}: ${err.message}`, err);
      throw err;
    }
    const parsed = options.schema.safeParse(data);
    if (!parsed.success) throw new AppError(ErrorCodes.internal, `reply on ${subject} does not match its schema`, { cause: parsed.error });
    return parsed.data;
  }

  async broadcast(subject: string, payload: unknown): Promise<void> {
    try {
      await this.#link.request(BusKinds.broadcast, { subject, payload }, PUBLISH_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof IpcUnavailableError) throw new BusUnavailableError(`cannot broadcast on ${subject}: ${err.message}`, err);
      throw err;
    }
  }

  async listen<T>(subject: string, schema: ZodType<T>, handler: (message: T) => void): Promise<Subscription> {
    const deliver = (payload: unknown): void => {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        this.#logger.warn({ subject }, 'broadcast failing its schema dropped');
        return;
      }
      try {
        handler(parsed.data);
      } catch (err) {
        this.#logger.error({ subject, err }, 'broadcast listener failed');
      }
    };
    let set = this.#listeners.get(subject);
    if (!set) {
      set = new Set();
      this.#listeners.set(subject, set);
      try {
        await this.#link.request(BusKinds.listen, { subject }, PUBLISH_TIMEOUT_MS);
      } catch (err) {
        this.#listeners.delete(subject);
        throw new BusUnavailableError(`cannot listen on ${subject}: ${(err as Error).message}`, err);
      }
    }
    set.add(deliver);
    return {
      stop: async () => {
        set.delete(deliver);
        if (set.size > 0 || this.#listeners.get(subject) !== set) return;
        this.#listeners.delete(subject);
        await this.#link.request(BusKinds.unlisten, { subject }, PUBLISH_TIMEOUT_MS).catch(() => undefined);
      },
    };
  }

  async consume<T>(spec: ConsumeSpec<T>, _handler: MessageHandler<T>): Promise<Subscription> {
    throw new BusUnavailableError(`consumer ${spec.consumer} cannot run in a worker process: consumers run in the primary`);
  }

  async serve<Req, Res>(subject: string, _schema: ZodType<Req>, _handler: RequestHandler<Req, Res>): Promise<Subscription> {
    throw new BusUnavailableError(`${subject} cannot be served from a worker process: responders run in the primary`);
  }

  /** The link belongs to the worker; nothing of the bus to drain here. */
  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
