import { type BusMetrics, traceDelivery } from '@vreg/telemetry';
import type { Logger } from 'pino';
import type { MessageHandler } from '../event-bus.ts';
import type { InboundMessage, ResolvedConsumeSpec } from '../handle-delivery.ts';
import { handleDelivery } from '../handle-delivery.ts';
import type { MemoryStream } from './memory-stream.ts';
import { subjectMatches } from './memory-stream.ts';

/** One `consume()` attached to a memory consumer: its handler and how many messages it runs at once. */
export interface MemoryWorker {
  readonly spec: ResolvedConsumeSpec<unknown>;
  readonly handler: MessageHandler<unknown>;
  readonly active: Set<Promise<void>>;
}

/** Dead-letters a message for a worker (the bus decides where dead letters go). */
export type MemoryDeadLetter = (msg: InboundMessage, spec: ResolvedConsumeSpec<unknown>, reason: string) => Promise<void>;

/**
 * An in-process durable pull consumer, with JetStream's delivery rules:
 * explicit acks, an ack wait after which an unacked message comes back
 * (reset by `working()`), nak with a delay, at most `maxDeliver + 1`
 * deliveries (the spare one as on NATS), and competing workers.
 */
export class MemoryConsumer {
  readonly name: string;
  #spec: ResolvedConsumeSpec<unknown>;

  /** The subject filter it consumes. */
  get subject(): string {
    return this.#spec.subject;
  }
  readonly #stream: MemoryStream;
  readonly #deadLetter: MemoryDeadLetter;
  readonly #logger: Logger;
  readonly #workers: MemoryWorker[] = [];
  #nextWorker = 0;
  #cursor: number;
  /** Sequences due for redelivery, oldest first. */
  readonly #ready: number[] = [];
  /** Deliveries so far of each unfinished message. */
  readonly #deliveries = new Map<number, number>();
  /** The current delivery of each message out with a worker, and its ack-wait timer. */
  readonly #outstanding = new Map<number, { token: object; timer: NodeJS.Timeout }>();
  readonly #delayed = new Set<NodeJS.Timeout>();
  #pumpScheduled = false;
  readonly #metrics: BusMetrics | undefined;

  constructor(
    stream: MemoryStream,
    spec: ResolvedConsumeSpec<unknown>,
    deadLetter: MemoryDeadLetter,
    logger: Logger,
    metrics?: BusMetrics,
  ) {
    this.name = spec.consumer;
    this.#stream = stream;
    this.#spec = spec;
    this.#deadLetter = deadLetter;
    this.#logger = logger;
    this.#cursor = stream.firstSeq; // deliver policy "all"
    this.#metrics = metrics;
    this.#unobserve = metrics?.observePending(stream.name, spec.consumer, () => this.pending);
  }

  readonly #unobserve: (() => void) | undefined;

  /** Messages not yet delivered: those past the cursor this consumer's filter takes, and those due again. */
  get pending(): number {
    let count = this.#ready.length;
    for (let seq = Math.max(this.#cursor, this.#stream.firstSeq); seq <= this.#stream.lastSeq; seq += 1) {
      const message = this.#stream.get(seq);
      if (message && subjectMatches(this.#spec.subject, message.subject)) count += 1;
    }
    return count;
  }

  /** Takes the latest settings (ack wait, max deliveries, filter), as a consumer update would. */
  configure(spec: ResolvedConsumeSpec<unknown>): void {
    this.#spec = spec;
  }

  attach(worker: MemoryWorker): void {
    this.#workers.push(worker);
    this.notify();
  }

  detach(worker: MemoryWorker): void {
    const i = this.#workers.indexOf(worker);
    if (i >= 0) this.#workers.splice(i, 1);
  }

  /** Something changed (new message, free worker): deliver what can be delivered, soon. */
  notify(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Cancels every timer (the bus is closing). */
  dispose(): void {
    this.#unobserve?.();
    for (const { timer } of this.#outstanding.values()) clearTimeout(timer);
    for (const timer of this.#delayed) clearTimeout(timer);
    this.#outstanding.clear();
    this.#delayed.clear();
  }

  #pump(): void {
    for (;;) {
      const worker = this.#freeWorker();
      if (!worker) return;
      const seq = this.#next();
      if (seq === undefined) return;
      this.#deliver(worker, seq);
    }
  }

  #freeWorker(): MemoryWorker | undefined {
    for (let i = 0; i < this.#workers.length; i += 1) {
      const worker = this.#workers[(this.#nextWorker + i) % this.#workers.length];
      if (worker && worker.active.size < worker.spec.concurrency) {
        this.#nextWorker = (this.#nextWorker + i + 1) % this.#workers.length;
        return worker;
      }
    }
    return undefined;
  }

  #next(): number | undefined {
    while (this.#ready.length > 0) {
      const seq = this.#ready.shift() as number;
      if (this.#stream.get(seq)) return seq;
      this.#deliveries.delete(seq); // dropped by the stream's limits meanwhile
    }
    this.#cursor = Math.max(this.#cursor, this.#stream.firstSeq);
    while (this.#cursor <= this.#stream.lastSeq) {
      const seq = this.#cursor;
      this.#cursor += 1;
      const message = this.#stream.get(seq);
      if (message && subjectMatches(this.#spec.subject, message.subject)) return seq;
    }
    return undefined;
  }

  #deliver(worker: MemoryWorker, seq: number): void {
    const message = this.#stream.get(seq);
    if (!message) return;
    const deliveryCount = (this.#deliveries.get(seq) ?? 0) + 1;
    this.#deliveries.set(seq, deliveryCount);
    const token = {};
    this.#outstanding.set(seq, { token, timer: this.#ackTimer(seq, token) });
    const current = (): boolean => this.#outstanding.get(seq)?.token === token;
    const inbound: InboundMessage = {
      subject: message.subject,
      text: message.text,
      headers: message.headers,
      msgId: message.msgId,
      streamSequence: seq,
      deliveryCount,
      // A late ack or term still counts, as on NATS; a late nak does not
      // schedule a second copy of a message already redelivered.
      ack: () => this.#finish(seq),
      term: () => this.#finish(seq),
      nak: (delayMs) => {
        if (current()) this.#retry(seq, delayMs);
      },
      working: () => {
        const out = this.#outstanding.get(seq);
        if (!out || out.token !== token) return;
        clearTimeout(out.timer);
        out.timer = this.#ackTimer(seq, token);
      },
    };
    if (deliveryCount > 1) this.#metrics?.redelivered(this.#stream.name, this.name);
    const done = handleDelivery(inbound, {
      spec: worker.spec,
      // The handler runs as a child of the publisher's span.
      handler: (delivery) =>
        traceDelivery(
          delivery.subject,
          delivery.headers,
          { stream: this.#stream.name, consumer: this.name, deliveryCount, msgId: message.msgId },
          () => worker.handler(delivery),
        ),
      deadLetter: (msg, reason) => this.#deadLetter(msg, worker.spec, reason),
      logger: this.#logger,
    }).finally(() => {
      worker.active.delete(done);
      this.notify();
    });
    worker.active.add(done);
  }

  #ackTimer(seq: number, token: object): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (this.#outstanding.get(seq)?.token === token) this.#retry(seq, 0);
    }, this.#spec.ackWaitMs);
    timer.unref();
    return timer;
  }

  #finish(seq: number): void {
    this.#stream.done(seq);
    const out = this.#outstanding.get(seq);
    if (out) clearTimeout(out.timer);
    this.#outstanding.delete(seq);
    this.#deliveries.delete(seq);
    const i = this.#ready.indexOf(seq);
    if (i >= 0) this.#ready.splice(i, 1);
  }

  #retry(seq: number, delayMs: number): void {
    const out = this.#outstanding.get(seq);
    if (out) clearTimeout(out.timer);
    this.#outstanding.delete(seq);
    if ((this.#deliveries.get(seq) ?? 0) >= this.#spec.maxDeliver + 1) {
      this.#logger.warn({ streamSequence: seq }, 'maximum deliveries reached: message dropped');
      this.#deliveries.delete(seq);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      this.#ready.push(seq);
      this.notify();
    }, delayMs);
    timer.unref();
    this.#delayed.add(timer);
  }
}
