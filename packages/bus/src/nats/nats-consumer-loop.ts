import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, JetStreamApiError } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { type BusMetrics, traceDelivery } from '@vreg/telemetry';
import type { Logger } from 'pino';
import type { MessageHandler, Subscription } from '../event-bus.ts';
import type { InboundMessage, ResolvedConsumeSpec } from '../handle-delivery.ts';
import { handleDelivery } from '../handle-delivery.ts';
import type { NatsNamespace } from './nats-namespace.ts';
import { fromNatsHeaders } from './nats-namespace.ts';

/** What a consumer loop needs from its bus. */
export interface NatsConsumerLoopDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  ns: NatsNamespace;
  logger: Logger;
  metrics: BusMetrics;
  /** Publishes the dead letter of `msg` (see `NatsEventBus`). */
  deadLetter(msg: JsMsg, inbound: InboundMessage, reason: string): Promise<void>;
}

const firstRetryMs = 200;
const maxRetryMs = 5000;

/**
 * One `consume()` of a durable pull consumer, kept alive until `stop()`.
 * The client's iterator already re-pulls after a reconnect; this loop is the
 * net under it: when the iterator ends or fails (consumer deleted, stream
 * recreated, connection trouble the client gave up on) it re-creates the
 * consumer and starts again with a capped backoff.
 */
export class NatsConsumerLoop<T> implements Subscription {
  readonly #deps: NatsConsumerLoopDeps;
  readonly #spec: ResolvedConsumeSpec<T>;
  readonly #handler: MessageHandler<T>;
  readonly #logger: Logger;
  readonly #inFlight = new Set<Promise<void>>();
  #messages: ConsumerMessages | undefined;
  #stopped = false;
  #wakeUp: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #unobserve: (() => void) | undefined;

  constructor(deps: NatsConsumerLoopDeps, spec: ResolvedConsumeSpec<T>, handler: MessageHandler<T>) {
    this.#deps = deps;
    this.#spec = spec;
    this.#handler = handler;
    this.#logger = deps.logger.child({ stream: spec.stream, consumer: spec.consumer });
  }

  /** Creates or updates the durable consumer, then starts consuming in the background. */
  async start(): Promise<void> {
    await this.#ensureConsumer();
    this.#running = this.#run();
    const { jsm, ns } = this.#deps;
    // Consumer lag as the server counts it, asked at scrape time.
    this.#unobserve = this.#deps.metrics.observePending(this.#spec.stream, this.#spec.consumer, async () => {
      const info = await jsm.consumers.info(ns.name(this.#spec.stream), ns.name(this.#spec.consumer));
      return info.num_pending;
    });
  }

  /** Stops pulling, waits for the handlers in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unobserve?.();
    this.#wakeUp?.();
    await this.#messages?.close().catch(() => undefined);
    await this.#running;
    await Promise.all(this.#inFlight);
  }

  async #ensureConsumer(): Promise<void> {
    const { ns, jsm } = this.#deps;
    const spec = this.#spec;
    const stream = ns.name(spec.stream);
    const durable = ns.name(spec.consumer);
    const changeable = {
      ack_wait: nanos(spec.ackWaitMs),
      // One spare delivery: we dead-letter on delivery `maxDeliver` ourselves;
      // the server's limit only matters when storing the dead letter failed.
      max_deliver: spec.maxDeliver + 1,
      filter_subject: ns.subject(spec.subject),
    };
    try {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...changeable,
      });
    } catch (err) {
      // Exists with another configuration (a redeploy changed ackWaitMs...): update it.
      if (!(err instanceof JetStreamApiError)) throw err;
      await jsm.consumers.update(stream, durable, changeable);
    }
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped) {
      try {
        if (attempt > 0) await this.#ensureConsumer();
        const consumer = await this.#deps.js.consumers.get(this.#deps.ns.name(this.#spec.stream), this.#deps.ns.name(this.#spec.consumer));
        const messages = await consumer.consume({ max_messages: this.#spec.concurrency });
        this.#messages = messages;
        if (this.#stopped) break;
        void this.#watch(messages);
        for await (const m of messages) {
          if (this.#stopped) {
            m.nak();
            break;
          }
          attempt = 0;
          this.#dispatch(m);
          while (this.#inFlight.size >= this.#spec.concurrency) await Promise.race(this.#inFlight);
        }
        if (!this.#stopped) this.#logger.warn('consumer iterator ended: consuming again');
      } catch (err) {
        if (!this.#stopped) this.#logger.warn({ err, attempt }, 'consuming failed: retrying');
      } finally {
        await this.#messages?.close().catch(() => undefined);
        this.#messages = undefined;
      }
      if (this.#stopped) break;
      await this.#sleep(Math.min(maxRetryMs, firstRetryMs * 2 ** attempt));
      attempt += 1;
    }
  }

  // Ends the iterator when the consumer is gone, so the loop re-creates it:
  // the client alone would keep pulling from nothing.
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === 'consumer_deleted' || s.type === 'consumer_not_found' || s.type === 'stream_not_found') {
        this.#logger.warn({ status: s.type }, 'consumer lost: re-creating it');
        await messages.close().catch(() => undefined);
        return;
      }
    }
  }

  #dispatch(m: JsMsg): void {
    const inbound: InboundMessage = {
      subject: this.#deps.ns.unsubject(m.subject),
      text: new TextDecoder().decode(m.data),
      headers: fromNatsHeaders(m.headers),
      msgId: m.headers?.get('Nats-Msg-Id') || undefined,
      streamSequence: m.info.streamSequence,
      deliveryCount: m.info.deliveryCount,
      ack: () => m.ack(),
      nak: (delayMs) => m.nak(delayMs),
      term: (reason) => m.term(reason),
      working: () => m.working(),
    };
    if (inbound.deliveryCount > 1) this.#deps.metrics.redelivered(this.#spec.stream, this.#spec.consumer);
    const spec = this.#spec;
    const done = handleDelivery(inbound, {
      spec,
      // The handler runs as a child of the publisher's span.
      handler: (delivery) =>
        traceDelivery(
          delivery.subject,
          delivery.headers,
          { stream: spec.stream, consumer: spec.consumer, deliveryCount: delivery.deliveryCount, msgId: inbound.msgId },
          () => this.#handler(delivery),
        ),
      deadLetter: (msg, reason) => this.#deps.deadLetter(m, msg, reason),
      logger: this.#logger,
    }).finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wakeUp = undefined;
  }
}
