import { AppError, ErrorCodes, type RetryLaterCode, type StreamSpec } from '@vreg/contracts';
import type { ZodType } from 'zod';

/** Options of a durable publish. */
export interface PublishOptions {
  /** JetStream dedup id (`Nats-Msg-Id`): a second publish with the same id inside the stream's window is dropped. */
  msgId?: string;
  /** Extra headers (trace context rides here). Never secrets. */
  headers?: Record<string, string>;
}

export interface PublishResult {
  /** True when the server dropped the message as a duplicate of `msgId`. */
  duplicate: boolean;
}

/** One delivery of a durable message to a consumer. */
export interface Delivery<T> {
  readonly subject: string;
  /** The payload, already validated against the consumer's schema. */
  readonly data: T;
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  readonly deliveryCount: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Tells the server the handler is still busy (resets the ack wait), for long fills. */
  working(): void;
}

/** What a handler throws to say its failure is permanent (PERMANENT_FAILURE): the message is dead-lettered at once, not retried. */
export class PermanentFailure extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.permanentFailure, message, options);
  }
}

/**
 * Base of what a handler throws to say the message is not ready yet (another
 * process is working on it), with one of the RetryLaterCodes: nak with the
 * usual backoff, but logged at debug, since nothing failed. The bus checks the
 * code (`isRetryLater`), not the class.
 */
export abstract class RetryLater extends AppError {
  constructor(code: RetryLaterCode, message: string) {
    super(code, message);
  }
}

export interface ConsumeSpec<T> {
  /** Stream name without namespace (from `Streams` in contracts). */
  stream: string;
  /** Durable consumer name without namespace; replicas sharing it compete for messages. */
  consumer: string;
  /** Subject filter without namespace. */
  subject: string;
  /** Runtime schema: a message failing it is poison and goes to the dead-letter subject. */
  schema: ZodType<T>;
  /** Deliveries before a message is dead-lettered. Default 8. */
  maxDeliver?: number;
  /** Milliseconds the server waits for an ack (or `working()`) before redelivering. Default 30000. */
  ackWaitMs?: number;
  /** Messages handled at once by this process. Default 4. */
  concurrency?: number;
  /** Base of the exponential nak delay in ms (delay = base * 2^(deliveryCount-1), capped at 60 s). Default 500. */
  backoffBaseMs?: number;
}

/**
 * Handles one message. Resolve → ack. Throw `PermanentFailure` → dead letter
 * + term. Throw anything else → nak with exponential backoff, dead letter
 * once `maxDeliver` is reached.
 */
export type MessageHandler<T> = (delivery: Delivery<T>) => Promise<void>;

export interface Subscription {
  /** Stops taking new messages and waits for the ones in progress. */
  stop(): Promise<void>;
}

export interface RequestOptions<T> {
  /**
   * Milliseconds to wait for the reply. Default 2000. No responder, or no
   * reply in time: every adapter throws `CatalogUnavailableError`
   * (CATALOG_UNAVAILABLE, the transport's error as `cause`), since the catalog
   * answers the data plane's requests; a caller asking another service (the
   * fetcher, for upstream tests) translates it to that service's code.
   */
  timeoutMs?: number;
  /** Schema of the reply's `data`. */
  schema: ZodType<T>;
  headers?: Record<string, string>;
}

/** Handler of a request/reply subject. Throw an error with a `code` to reply `{ ok: false, error }`. */
export type RequestHandler<Req, Res> = (request: Req, headers: Readonly<Record<string, string>>) => Promise<Res>;

/**
 * The message bus: durable events (JetStream in distributed mode, in-process
 * in embedded mode) and request/reply. All subject, stream and consumer names
 * given here are un-namespaced; the adapter adds its namespace.
 */
export interface EventBus {
  /**
   * Declares the streams with their retention (idempotent). Call once at
   * start-up before publishing or consuming. A `workqueue` stream drops a
   * message once its consumer acks or terms it, and takes one consumer per
   * subject; every stream drops its oldest messages past its bounds.
   */
  ensureStreams(streams: readonly StreamSpec[]): Promise<void>;
  /** Durable publish; resolves once the server stored it. Throws `BusUnavailableError` when the bus cannot take it. */
  publish(subject: string, payload: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Starts a durable competing consumer. */
  consume<T>(spec: ConsumeSpec<T>, handler: MessageHandler<T>): Promise<Subscription>;
  /**
   * Request/reply. The reply envelope `{ok,data}|{ok:false,error}` is unwrapped: an error reply is thrown as an `AppError` with its code.
   * @throws CatalogUnavailableError when nobody serves `subject` or no reply comes within `timeoutMs`.
   */
  request<T>(subject: string, payload: unknown, options: RequestOptions<T>): Promise<T>;
  /** Answers requests on `subject`; replicas share the load (queue group = subject). Payloads failing `schema` get a VALIDATION_FAILED reply. */
  serve<Req, Res>(subject: string, schema: ZodType<Req>, handler: RequestHandler<Req, Res>): Promise<Subscription>;
  /**
   * Fan-out to every live listener of `subject` (core NATS, not stored):
   * for hints such as cache invalidations, never for work that must happen.
   * Throws `BusUnavailableError` when the bus cannot take it.
   */
  broadcast(subject: string, payload: unknown): Promise<void>;
  /** Receives every broadcast on `subject` (each replica its own copy). Payloads failing `schema` are logged and dropped. */
  listen<T>(subject: string, schema: ZodType<T>, handler: (message: T) => void): Promise<Subscription>;
  /** Drains and closes. */
  close(): Promise<void>;
}
