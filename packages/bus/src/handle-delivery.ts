import { ErrorCodes, hasCode, isRetryLater } from '@vreg/contracts';
import type { Logger } from 'pino';
import { prettifyError, ZodError } from 'zod';
import type { ConsumeSpec, Delivery, MessageHandler } from './event-bus.ts';

/** Longest nak delay, whatever the delivery count. */
export const maxNakDelayMs = 60_000;

/** A `ConsumeSpec` with every default filled in. */
export type ResolvedConsumeSpec<T> = Required<ConsumeSpec<T>>;

/** Fills in the documented defaults of a `ConsumeSpec`. */
export function resolveConsumeSpec<T>(spec: ConsumeSpec<T>): ResolvedConsumeSpec<T> {
  return {
    stream: spec.stream,
    consumer: spec.consumer,
    subject: spec.subject,
    schema: spec.schema,
    maxDeliver: Math.max(1, spec.maxDeliver ?? 8),
    ackWaitMs: spec.ackWaitMs ?? 30_000,
    concurrency: Math.max(1, spec.concurrency ?? 4),
    backoffBaseMs: spec.backoffBaseMs ?? 500,
  };
}

/** Nak delay before delivery `deliveryCount + 1`: `base * 2^(deliveryCount-1)`, capped at 60 s. */
export function nakDelayMs(backoffBaseMs: number, deliveryCount: number): number {
  return Math.min(backoffBaseMs * 2 ** Math.max(0, deliveryCount - 1), maxNakDelayMs);
}

/**
 * One delivery as the transport hands it over, before validation. Subjects
 * are un-namespaced; `headers` hold only the application's headers.
 */
export interface InboundMessage {
  readonly subject: string;
  /** The payload as UTF-8 text (JSON when well-formed). */
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly msgId: string | undefined;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  ack(): void;
  nak(delayMs: number): void;
  term(reason: string): void;
  working(): void;
}

/** What `handleDelivery` needs from its adapter besides the message. */
export interface DeliveryContext<T> {
  spec: ResolvedConsumeSpec<T>;
  handler: MessageHandler<T>;
  /** Stores the message under `vreg.dead.<subject>`; rejects when that failed. */
  deadLetter(msg: InboundMessage, reason: string): Promise<void>;
  logger: Logger;
}

/**
 * The consumer semantics shared by every adapter: validate, run the handler,
 * then ack, nak with exponential backoff, or dead-letter and term. Never
 * rejects.
 */
export async function handleDelivery<T>(msg: InboundMessage, ctx: DeliveryContext<T>): Promise<void> {
  const { spec, logger } = ctx;
  let data: T;
  try {
    data = spec.schema.parse(JSON.parse(msg.text));
  } catch (err) {
    logger.error({ ...describeMessage(msg, parseOrUndefined(msg.text)), err: describeError(err) }, 'poison message dead-lettered');
    await giveUp(msg, `invalid payload: ${describeError(err)}`, ctx);
    return;
  }
  const delivery: Delivery<T> = {
    subject: msg.subject,
    data,
    deliveryCount: msg.deliveryCount,
    headers: Object.freeze({ ...msg.headers }),
    working: () => msg.working(),
  };
  try {
    await ctx.handler(delivery);
    msg.ack();
    return;
  } catch (err) {
    const fields = { ...describeMessage(msg, data), err };
    if (hasCode(err, ErrorCodes.permanentFailure)) {
      logger.error(fields, 'permanent failure: message dead-lettered');
      await giveUp(msg, describeError(err), ctx);
    } else if (msg.deliveryCount >= spec.maxDeliver) {
      logger.error(fields, 'deliveries exhausted: message dead-lettered');
      await giveUp(msg, `gave up after ${msg.deliveryCount} deliveries: ${describeError(err)}`, ctx);
    } else {
      const delayMs = nakDelayMs(spec.backoffBaseMs, msg.deliveryCount);
      if (isRetryLater(err) && err instanceof Error)
        logger.debug({ ...describeMessage(msg, data), reason: err.message, delayMs }, 'message not ready: retrying later');
      else logger.warn({ ...fields, delayMs }, 'handler failed: message will be retried');
      msg.nak(delayMs);
    }
  }
}

async function giveUp<T>(msg: InboundMessage, reason: string, ctx: DeliveryContext<T>): Promise<void> {
  try {
    await ctx.deadLetter(msg, reason);
  } catch (err) {
    // Not stored as a dead letter: let it come back rather than lose it. The
    // server's own max_deliver (one above ours) bounds how often.
    ctx.logger.error({ ...describeMessage(msg), err }, 'dead letter could not be stored: message will be retried');
    msg.nak(nakDelayMs(ctx.spec.backoffBaseMs, msg.deliveryCount));
    return;
  }
  msg.term(reason);
}

/** A one-paragraph description of an error, zod issues spelled out. */
export function describeError(err: unknown): string {
  if (err instanceof ZodError) return prettifyError(err);
  if (err instanceof Error) return err.message;
  return String(err);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeMessage(msg: InboundMessage, data?: unknown): Record<string, unknown> {
  const eventId =
    typeof data === 'object' && data !== null && typeof (data as { eventId?: unknown }).eventId === 'string'
      ? (data as { eventId: string }).eventId
      : undefined;
  return {
    eventId: eventId ?? msg.msgId,
    msgId: msg.msgId,
    subject: msg.subject,
    streamSequence: msg.streamSequence,
    deliveryCount: msg.deliveryCount,
  };
}
