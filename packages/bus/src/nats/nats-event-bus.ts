import type { JetStreamClient, JetStreamManager, JsMsg, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { CatalogUnavailableError, type StreamLimits, type StreamSpec, Streams } from '@vreg/contracts';
import { type BusMetrics, traceAnswer, tracePublish, VregMetrics } from '@vreg/telemetry';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { deliverBroadcast } from '../broadcast.ts';
import { deadLetterHeaders, deadLetterSubject, isDeadLetterSubject } from '../dead-letter.ts';
import { BusUnavailableError } from '../errors.ts';
import type {
  ConsumeSpec,
  EventBus,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RequestHandler,
  RequestOptions,
  Subscription,
} from '../event-bus.ts';
import type { InboundMessage } from '../handle-delivery.ts';
import { resolveConsumeSpec } from '../handle-delivery.ts';
import { answerRequest, defaultRequestTimeoutMs, encodeReply, unwrapReply } from '../reply-envelope.ts';
import { timedRequest } from '../timed-request.ts';
import { NatsConsumerLoop } from './nats-consumer-loop.ts';
import { fromNatsHeaders, NatsNamespace, toNatsHeaders } from './nats-namespace.ts';

/** Options of `NatsEventBus.connect`. */
export interface NatsEventBusOptions {
  /** Seed servers, e.g. `['nats://nats:4222']`. */
  servers: string[];
  /** Prefix of every subject (`<ns>.`) and stream/consumer name (`<ns>_`); '' for none. */
  namespace: string;
  /** Replicas of every stream (1, or 3 on a cluster). */
  replicas: number;
  logger: Logger;
  /** Connection name shown by the server's monitoring. Default `vreg`. */
  name?: string;
  /** Where redeliveries, dead letters, consumer lag and lookup latency are counted. Default: nowhere. */
  metrics?: BusMetrics;
  /** Bounds of every stream (VREG_NATS_STREAM_MAX_*); defaults in `defaultStreamLimits`. */
  streamLimits?: Partial<StreamLimits>;
}

type StreamSettings = Partial<StreamConfig> & { name: string };

const day = 24 * 60 * 60 * 1000;
/** Dedup window of every stream (`Nats-Msg-Id`). */
export const duplicateWindowMs = 2 * 60 * 1000;
/** Bounds of every stream unless configured: NatsEnv's defaults. */
export const defaultStreamLimits: StreamLimits = { maxBytes: 256 << 20, maxMessages: 1_000_000, maxAgeMs: 7 * day };
/** How long dead letters are kept for inspection and replay. */
export const deadLetterMaxAgeMs = 30 * day;

/**
 * The `EventBus` on NATS: JetStream streams and durable pull consumers for
 * events, core NATS request/reply with queue groups for lookups. The
 * connection reconnects forever; consumers resume by themselves.
 */
export class NatsEventBus implements EventBus {
  /** The connection, for adapters that share it (e.g. the fill lease's KV). */
  readonly connection: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #ns: NatsNamespace;
  readonly #replicas: number;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Subscription>();
  readonly #metrics: BusMetrics;
  readonly #limits: StreamLimits;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: NatsEventBusOptions) {
    this.connection = nc;
    this.#js = jetstream(nc);
    this.#jsm = jsm;
    this.#ns = new NatsNamespace(options.namespace);
    this.#replicas = options.replicas;
    this.#logger = options.logger.child({ component: 'nats-event-bus' });
    this.#metrics = options.metrics ?? VregMetrics.noop();
    this.#limits = { ...defaultStreamLimits, ...options.streamLimits };
  }

  /** Connects to NATS. Throws `BusUnavailableError` when no server answers or JetStream is not enabled. */
  static async connect(options: NatsEventBusOptions): Promise<NatsEventBus> {
    new NatsNamespace(options.namespace); // validates before any I/O
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers, name: options.name ?? 'vreg', reconnect: true, maxReconnectAttempts: -1 });
    } catch (err) {
      throw new BusUnavailableError(`cannot connect to NATS at ${options.servers.join(', ')}`, err);
    }
    try {
      return new NatsEventBus(nc, await jetstreamManager(nc), options);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new BusUnavailableError('JetStream is not available on the NATS server', err);
    }
  }

  /**
   * Creates or updates each stream, and always the dead-letter stream: file
   * storage, a 2 min dedup window, the stream's retention, and the bounds of
   * `streamLimits` (the oldest messages go first past any of them).
   *
   * JetStream cannot change an existing stream's retention (one made with
   * limits retention before commands moved to workqueue): such a stream is
   * deleted and made anew when nothing in it is still to be processed (no
   * consumer has a message pending or unacknowledged, and none is missing);
   * otherwise it keeps its old retention, bounds updated, with a warning
   * saying why, and the next start tries again.
   */
  async ensureStreams(streams: readonly StreamSpec[]): Promise<void> {
    const all = streams.some((s) => s.name === Streams.dead.name) ? streams : [...streams, Streams.dead];
    for (const stream of all) {
      const isDead = stream.subjects.every(isDeadLetterSubject);
      const config: StreamSettings = {
        name: this.#ns.name(stream.name),
        subjects: stream.subjects.map((s) => this.#ns.subject(s)),
        storage: StorageType.File,
        retention: stream.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(duplicateWindowMs),
        max_age: nanos(isDead ? deadLetterMaxAgeMs : this.#limits.maxAgeMs),
        max_bytes: this.#limits.maxBytes,
        max_msgs: this.#limits.maxMessages,
        num_replicas: this.#replicas,
      };
      try {
        await this.#upsertStream(config);
      } catch (err) {
        throw new BusUnavailableError(`cannot create or update stream ${stream.name}: ${describeNatsError(err)}`, err);
      }
    }
  }

  async #upsertStream(config: StreamSettings): Promise<void> {
    const existing = await this.#streamInfo(config.name);
    if (existing === undefined) {
      await this.#addStream(config);
      return;
    }
    if (existing.config.retention === config.retention) {
      await this.#jsm.streams.update(config.name, config);
      return;
    }
    const unfinished = await this.#unfinishedWork(existing);
    // Read again just before deleting: another replica starting at the same time may have made it anew already.
    const current = unfinished === undefined ? await this.#streamInfo(config.name) : existing;
    if (current !== undefined && current.config.retention === config.retention) {
      await this.#jsm.streams.update(config.name, config);
      return;
    }
    if (unfinished === undefined) {
      if (current !== undefined) await this.#jsm.streams.delete(config.name);
      await this.#addStream(config);
      this.#logger.warn(
        { stream: config.name, from: existing.config.retention, to: config.retention, dropped: existing.state.messages },
        'stream made anew with its new retention (JetStream cannot change it in place); its messages were all processed',
      );
      return;
    }
    // Everything but the retention: the bounds apply to the old stream too.
    const { retention: _wanted, ...bounds } = config;
    await this.#jsm.streams.update(config.name, bounds);
    this.#logger.warn(
      { stream: config.name, retention: existing.config.retention, wanted: config.retention, reason: unfinished },
      'stream keeps its old retention until its messages are processed (JetStream cannot change it in place); the next start tries again',
    );
  }

  async #streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.#jsm.streams.info(name);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
      throw err;
    }
  }

  /** Adds a stream; one another replica added meanwhile is updated instead. */
  async #addStream(config: StreamSettings): Promise<void> {
    try {
      await this.#jsm.streams.add(config);
    } catch (err) {
      if ((await this.#streamInfo(config.name))?.config.retention !== config.retention) throw err;
      await this.#jsm.streams.update(config.name, config);
    }
  }

  /** Why the stream's messages cannot be dropped yet, or undefined when every one was processed. */
  async #unfinishedWork(info: StreamInfo): Promise<string | undefined> {
    if (info.state.messages === 0) return undefined;
    const consumers = await this.#jsm.consumers.list(info.config.name).next();
    if (consumers.length === 0) return `${info.state.messages} messages that no consumer has read`;
    for (const c of consumers) {
      const open = c.num_pending + c.num_ack_pending;
      if (open > 0) return `consumer ${c.name} has ${open} messages not yet processed`;
    }
    return undefined;
  }

  /** JetStream publish; `{ duplicate: true }` when `msgId` was seen in the last 2 minutes. */
  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    // The trace context of the publishing span rides in the headers.
    return tracePublish(subject, options.headers, options.msgId === undefined ? {} : { 'messaging.message.id': options.msgId }, (traced) =>
      this.#publish(subject, payload, options.msgId, traced),
    );
  }

  async #publish(
    subject: string,
    payload: unknown,
    msgId: string | undefined,
    traced: Record<string, string> | undefined,
  ): Promise<PublishResult> {
    const headers = toNatsHeaders(traced);
    try {
      const ack = await this.#js.publish(this.#ns.subject(subject), JSON.stringify(payload) ?? 'null', {
        ...(msgId === undefined ? {} : { msgID: msgId }),
        ...(headers === undefined ? {} : { headers }),
      });
      return { duplicate: ack.duplicate };
    } catch (err) {
      throw new BusUnavailableError(`cannot publish to ${subject}`, err);
    }
  }

  /** Creates or updates the durable consumer and consumes until the subscription stops. */
  async consume<T>(spec: ConsumeSpec<T>, handler: MessageHandler<T>): Promise<Subscription> {
    const loop = new NatsConsumerLoop(
      {
        js: this.#js,
        jsm: this.#jsm,
        ns: this.#ns,
        logger: this.#logger,
        metrics: this.#metrics,
        deadLetter: (m, inbound, reason) => this.#deadLetter(m, inbound, spec, reason),
      },
      resolveConsumeSpec(spec),
      handler,
    );
    try {
      await loop.start();
    } catch (err) {
      throw new BusUnavailableError(`cannot create consumer ${spec.consumer} on ${spec.stream}`, err);
    }
    return this.#track(loop);
  }

  async #deadLetter(m: JsMsg, inbound: InboundMessage, spec: ConsumeSpec<unknown>, reason: string): Promise<void> {
    if (isDeadLetterSubject(inbound.subject)) return; // a dead letter's own consumer failed: never loop
    const headers = toNatsHeaders(
      deadLetterHeaders(inbound.headers, { stream: spec.stream, consumer: spec.consumer, deliveryCount: inbound.deliveryCount, reason }),
    );
    // The id makes a retried dead-lettering (stored, but the term was lost) land once.
    await this.#js.publish(this.#ns.subject(deadLetterSubject(inbound.subject)), m.data, {
      msgID: `dead:${spec.stream}:${spec.consumer}:${inbound.streamSequence}`,
      ...(headers === undefined ? {} : { headers }),
    });
    this.#metrics.deadLettered(spec.stream, spec.consumer);
  }

  /** Core NATS request. No responder or no reply in time → `CatalogUnavailableError`. */
  async request<T>(subject: string, payload: unknown, options: RequestOptions<T>): Promise<T> {
    return timedRequest(this.#metrics, subject, options.headers, (traced) => this.#request(subject, payload, options, traced));
  }

  async #request<T>(subject: string, payload: unknown, options: RequestOptions<T>, traced: Record<string, string> | undefined): Promise<T> {
    let reply: Msg;
    try {
      const headers = toNatsHeaders(traced);
      reply = await this.connection.request(this.#ns.subject(subject), JSON.stringify(payload) ?? 'null', {
        timeout: options.timeoutMs ?? defaultRequestTimeoutMs,
        ...(headers === undefined ? {} : { headers }),
      });
    } catch (err) {
      throw new CatalogUnavailableError(`no reply on ${subject}`, err);
    }
    return unwrapReply(subject, reply.string(), options.schema);
  }

  /** Answers `subject` in queue group `subject`, so replicas share the requests. */
  async serve<Req, Res>(subject: string, schema: ZodType<Req>, handler: RequestHandler<Req, Res>): Promise<Subscription> {
    const inFlight = new Set<Promise<void>>();
    const logger = this.#logger.child({ subject });
    const answer = async (msg: Msg): Promise<void> => {
      const headers = fromNatsHeaders(msg.headers);
      // Answered as a child of the requester's span.
      const reply = await traceAnswer(
        subject,
        headers,
        () => answerRequest(subject, msg.string(), headers, schema, handler, logger),
        (r) => (r.ok ? undefined : r.error.code),
      );
      if (!msg.respond(encodeReply(reply))) logger.warn('request without a reply subject ignored');
    };
    const sub = this.connection.subscribe(this.#ns.subject(subject), {
      queue: this.#ns.subject(subject),
      callback: (err, msg) => {
        if (err) {
          logger.error({ err }, 'subscription failed');
          return;
        }
        const done = answer(msg)
          .catch((e: unknown) => logger.error({ err: e }, 'reply failed'))
          .finally(() => inFlight.delete(done));
        inFlight.add(done);
      },
    });
    // Make sure the server registered the subscription before callers rely on it.
    await this.connection.flush().catch(() => undefined);
    return this.#track({
      stop: async () => {
        await sub.drain().catch(() => undefined);
        await Promise.all(inFlight);
      },
    });
  }

  async broadcast(subject: string, payload: unknown): Promise<void> {
    try {
      this.connection.publish(this.#ns.subject(subject), JSON.stringify(payload) ?? 'null');
    } catch (err) {
      throw new BusUnavailableError(`cannot broadcast on ${subject}`, err);
    }
  }

  /** A plain subscription (no queue group): every replica gets each broadcast. */
  async listen<T>(subject: string, schema: ZodType<T>, handler: (message: T) => void): Promise<Subscription> {
    const logger = this.#logger.child({ subject });
    const sub = this.connection.subscribe(this.#ns.subject(subject), {
      callback: (err, msg) => {
        if (err) {
          logger.error({ err }, 'subscription failed');
          return;
        }
        deliverBroadcast(msg.string(), schema, handler, logger);
      },
    });
    await this.connection.flush().catch(() => undefined);
    return this.#track({ stop: async () => void (await sub.drain().catch(() => undefined)) });
  }

  #track(sub: Subscription): Subscription {
    const tracked: Subscription = {
      stop: async () => {
        this.#subscriptions.delete(tracked);
        await sub.stop();
      },
    };
    this.#subscriptions.add(tracked);
    return tracked;
  }

  /**
   * Stops every consumer and responder (waiting for their handlers), then
   * drains and closes the connection: close the bus after anything sharing
   * `connection` (the fill lease).
   */
  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    if (!this.connection.isClosed()) await this.connection.drain().catch(() => undefined);
  }
}

/** JetStream's code when a stream's max_bytes does not fit in what the server (or account) has left to reserve. */
const INSUFFICIENT_STORAGE = 10047;

/** A JetStream API error's own words, with what to do about the one an operator meets first. */
function describeNatsError(err: unknown): string {
  if (!(err instanceof JetStreamApiError)) return err instanceof Error ? err.message : String(err);
  const hint =
    err.code === INSUFFICIENT_STORAGE
      ? ": JetStream reserves each stream's max_bytes up front; lower VREG_NATS_STREAM_MAX_BYTES or give the server more max_file_store"
      : '';
  return `${err.message} (JetStream error ${err.code})${hint}`;
}
