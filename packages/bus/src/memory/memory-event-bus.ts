import type { Reply } from '@vreg/contracts';
import { CatalogUnavailableError, type StreamLimits, type StreamSpec, Streams } from '@vreg/contracts';
import { type BusMetrics, traceAnswer, tracePublish, VregMetrics } from '@vreg/telemetry';
import type { Logger } from 'pino';
import { pino } from 'pino';
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
import type { InboundMessage, ResolvedConsumeSpec } from '../handle-delivery.ts';
import { resolveConsumeSpec } from '../handle-delivery.ts';
import { answerRequest, defaultRequestTimeoutMs, encodeReply, unwrapReply } from '../reply-envelope.ts';
import { timedRequest } from '../timed-request.ts';
import type { MemoryWorker } from './memory-consumer.ts';
import { MemoryConsumer } from './memory-consumer.ts';
import { MemoryStream, subjectMatches } from './memory-stream.ts';

const day = 24 * 60 * 60 * 1000;

/** A message a consumer gave up on, as the memory bus keeps it for inspection. */
export interface MemoryDeadLetterRecord {
  /** `vreg.dead.<original subject>`. */
  subject: string;
  originalSubject: string;
  stream: string;
  consumer: string;
  /** Why it was given up. */
  error: string;
  /** The original payload text. */
  payload: string;
  headers: Record<string, string>;
  deliveryCount: number;
}

/** Options of the memory bus; every one has a default. */
export interface MemoryEventBusOptions {
  logger?: Logger;
  /** Milliseconds a `msgId` is remembered. Default 2 minutes, as on NATS. */
  duplicateWindowMs?: number;
  /**
   * Bounds of every stream, oldest dropped first past any of them. Default:
   * 10 000 messages, 64 MiB, 7 days (this process's memory holds them all).
   */
  streamLimits?: Partial<StreamLimits>;
  /** Where redeliveries, dead letters, consumer lag and lookup latency are counted. Default: nowhere. */
  metrics?: BusMetrics;
}

type Responder = { answer(text: string, headers: Record<string, string>): Promise<Reply<unknown>> };

/**
 * The `EventBus` in-process, for embedded mode and unit tests, with the
 * observable semantics of `NatsEventBus`: streams capture subjects, durable
 * consumers shared by competing `consume()` calls, dedup by `msgId`, ack
 * wait, nak delays, `maxDeliver` and dead letters (also kept in
 * `deadLetters`), request/reply with timeouts. Payloads round-trip through
 * JSON, so publisher and handler never share an object.
 *
 * Nothing is persisted: events not yet handled when the process stops are
 * lost. Embedded mode accepts that; the next pull of a missing object asks
 * for it again.
 */
export class MemoryEventBus implements EventBus {
  /** Every dead letter since start, oldest first. */
  readonly deadLetters: MemoryDeadLetterRecord[] = [];
  readonly #logger: Logger;
  readonly #duplicateWindowMs: number;
  readonly #limits: StreamLimits;
  readonly #streams = new Map<string, MemoryStream>();
  readonly #responders = new Map<string, Responder[]>();
  readonly #listeners = new Map<string, Array<(text: string) => void>>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #metrics: BusMetrics;

  constructor(options: MemoryEventBusOptions = {}) {
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'memory-event-bus' });
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 2 * 60 * 1000;
    this.#limits = { maxMessages: 10_000, maxBytes: 64 << 20, maxAgeMs: 7 * day, ...options.streamLimits };
    this.#metrics = options.metrics ?? VregMetrics.noop();
  }

  /** Creates or updates each stream with its retention, and always the dead-letter stream. */
  async ensureStreams(streams: readonly StreamSpec[]): Promise<void> {
    const all = streams.some((s) => s.name === Streams.dead.name) ? streams : [...streams, Streams.dead];
    for (const { name, subjects, retention = 'limits' } of all) {
      const existing = this.#streams.get(name);
      if (existing) {
        existing.subjects = [...subjects];
        // Nothing outlives this process, so unlike JetStream the retention can simply change.
        existing.retention = retention;
        continue;
      }
      const isDead = subjects.every(isDeadLetterSubject);
      this.#streams.set(
        name,
        new MemoryStream(name, [...subjects], retention, {
          maxAgeMs: isDead ? 30 * day : this.#limits.maxAgeMs,
          maxMessages: this.#limits.maxMessages,
          maxBytes: this.#limits.maxBytes,
          duplicateWindowMs: this.#duplicateWindowMs,
        }),
      );
    }
  }

  /** Messages `stream` holds now (0 when there is no such stream), as JetStream's stream info tells: for tests. */
  streamSize(stream: string): number {
    return this.#streams.get(stream)?.size ?? 0;
  }

  /** Stores the message in the stream capturing `subject`; `BusUnavailableError` when none does. */
  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const stream = this.#streamFor(subject);
    if (!stream) throw new BusUnavailableError(`cannot publish to ${subject}: no stream captures it`);
    // The trace context of the publishing span is stored with the message, as NATS headers would carry it.
    return tracePublish(
      subject,
      options.headers,
      options.msgId === undefined ? {} : { 'messaging.message.id': options.msgId },
      async (headers) => {
        const stored = stream.append(subject, JSON.stringify(payload) ?? 'null', headers ?? {}, options.msgId);
        return { duplicate: stored === undefined };
      },
    );
  }

  #streamFor(subject: string): MemoryStream | undefined {
    for (const stream of this.#streams.values()) if (stream.captures(subject)) return stream;
    return undefined;
  }

  /** Attaches a competing worker to the durable consumer (created on first use). */
  async consume<T>(spec: ConsumeSpec<T>, handler: MessageHandler<T>): Promise<Subscription> {
    const stream = this.#streams.get(spec.stream);
    if (!stream) throw new BusUnavailableError(`cannot create consumer ${spec.consumer}: stream ${spec.stream} not found`);
    const resolved = resolveConsumeSpec(spec) as ResolvedConsumeSpec<unknown>;
    let consumer = stream.consumers.get(spec.consumer);
    if (!consumer && stream.retention === 'workqueue') {
      // As JetStream: each message of a work queue is for one consumer, so their subjects may not overlap.
      const rival = [...stream.consumers.values()].find(
        (c) => subjectMatches(c.subject, spec.subject) || subjectMatches(spec.subject, c.subject),
      );
      if (rival)
        throw new BusUnavailableError(
          `cannot create consumer ${spec.consumer}: work-queue stream ${spec.stream} already has consumer ${rival.name} on its subjects`,
        );
    }
    if (consumer) {
      consumer.configure(resolved);
    } else {
      const logger = this.#logger.child({ stream: spec.stream, consumer: spec.consumer });
      consumer = new MemoryConsumer(stream, resolved, (msg, s, reason) => this.#deadLetter(msg, s, reason), logger, this.#metrics);
      stream.consumers.set(spec.consumer, consumer);
    }
    const worker: MemoryWorker = { spec: resolved, handler: handler as MessageHandler<unknown>, active: new Set() };
    consumer.attach(worker);
    const attachedTo = consumer;
    return this.#track(async () => {
      attachedTo.detach(worker);
      await Promise.all(worker.active);
    });
  }

  async #deadLetter(msg: InboundMessage, spec: ResolvedConsumeSpec<unknown>, reason: string): Promise<void> {
    if (isDeadLetterSubject(msg.subject)) return; // a dead letter's own consumer failed: never loop
    const subject = deadLetterSubject(msg.subject);
    const headers = deadLetterHeaders(msg.headers, {
      stream: spec.stream,
      consumer: spec.consumer,
      deliveryCount: msg.deliveryCount,
      reason,
    });
    this.deadLetters.push({
      subject,
      originalSubject: msg.subject,
      stream: spec.stream,
      consumer: spec.consumer,
      error: reason,
      payload: msg.text,
      headers,
      deliveryCount: msg.deliveryCount,
    });
    this.#streamFor(subject)?.append(subject, msg.text, headers, `dead:${spec.stream}:${spec.consumer}:${msg.streamSequence}`);
    this.#metrics.deadLettered(spec.stream, spec.consumer);
  }

  /** Calls a responder of `subject`; none, or no answer within the timeout → `CatalogUnavailableError`. */
  async request<T>(subject: string, payload: unknown, options: RequestOptions<T>): Promise<T> {
    return timedRequest(this.#metrics, subject, options.headers, (headers) => this.#request(subject, payload, options, headers));
  }

  async #request<T>(
    subject: string,
    payload: unknown,
    options: RequestOptions<T>,
    headers: Record<string, string> | undefined,
  ): Promise<T> {
    const responders = this.#responders.get(subject) ?? [];
    const responder = responders[0];
    if (!responder) throw new CatalogUnavailableError(`no reply on ${subject}: no responders`);
    responders.push(responders.shift() as Responder); // round robin, like a queue group
    const timeoutMs = options.timeoutMs ?? defaultRequestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CatalogUnavailableError(`no reply on ${subject} within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      const reply = await Promise.race([responder.answer(JSON.stringify(payload) ?? 'null', { ...headers }), timeout]);
      return unwrapReply(subject, encodeReply(reply), options.schema);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Registers a responder; several on one subject share requests round robin. */
  async serve<Req, Res>(subject: string, schema: ZodType<Req>, handler: RequestHandler<Req, Res>): Promise<Subscription> {
    const active = new Set<Promise<Reply<unknown>>>();
    const logger = this.#logger.child({ subject });
    const responder: Responder = {
      answer: (text, headers) => {
        const done: Promise<Reply<unknown>> = traceAnswer(
          subject,
          headers,
          () => answerRequest(subject, text, headers, schema, handler, logger),
          (r) => (r.ok ? undefined : r.error.code),
        ).finally(() => active.delete(done));
        active.add(done);
        return done;
      },
    };
    this.#responders.set(subject, [...(this.#responders.get(subject) ?? []), responder]);
    return this.#track(async () => {
      const left = (this.#responders.get(subject) ?? []).filter((r) => r !== responder);
      if (left.length > 0) this.#responders.set(subject, left);
      else this.#responders.delete(subject);
      await Promise.all(active);
    });
  }

  async broadcast(subject: string, payload: unknown): Promise<void> {
    const text = JSON.stringify(payload) ?? 'null';
    for (const listener of [...(this.#listeners.get(subject) ?? [])]) listener(text);
  }

  async listen<T>(subject: string, schema: ZodType<T>, handler: (message: T) => void): Promise<Subscription> {
    const logger = this.#logger.child({ subject });
    const listener = (text: string): void => deliverBroadcast(text, schema, handler, logger);
    this.#listeners.set(subject, [...(this.#listeners.get(subject) ?? []), listener]);
    return this.#track(async () => {
      this.#listeners.set(
        subject,
        (this.#listeners.get(subject) ?? []).filter((l) => l !== listener),
      );
    });
  }

  #track(stop: () => Promise<void>): Subscription {
    const subscription: Subscription = {
      stop: async () => {
        this.#subscriptions.delete(subscription);
        await stop();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Stops every consumer and responder (waiting for their handlers) and cancels every timer. */
  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    for (const stream of this.#streams.values()) for (const consumer of stream.consumers.values()) consumer.dispose();
  }
}
