import { Subjects } from '@vreg/contracts';

/** Headers a dead letter carries on top of the original message's own headers. */
export const DeadLetterHeaders = {
  /** Why the message was given up: the validation problem or the handler's error message. */
  error: 'vreg-error',
  /** Un-namespaced name of the stream the message came from. */
  stream: 'vreg-stream',
  /** Durable consumer that gave the message up. */
  consumer: 'vreg-consumer',
  /** The delivery on which it was given up (1 for poison messages and permanent failures). */
  deliveryCount: 'vreg-delivery-count',
} as const;

/** `vreg.dead.<original subject>`: where a message goes when its consumer gives up on it. */
export function deadLetterSubject(subject: string): string {
  return `${Subjects.deadLetterPrefix}.${subject}`;
}

/** True for subjects under the dead-letter prefix: a dead letter is never dead-lettered again. */
export function isDeadLetterSubject(subject: string): boolean {
  return subject.startsWith(`${Subjects.deadLetterPrefix}.`);
}

/** Headers of the dead letter for a message given up by `consumer` of `stream`. */
export function deadLetterHeaders(
  original: Readonly<Record<string, string>>,
  info: { stream: string; consumer: string; deliveryCount: number; reason: string },
): Record<string, string> {
  return {
    ...original,
    [DeadLetterHeaders.error]: oneLine(info.reason),
    [DeadLetterHeaders.stream]: info.stream,
    [DeadLetterHeaders.consumer]: info.consumer,
    [DeadLetterHeaders.deliveryCount]: String(info.deliveryCount),
  };
}

// Header values cannot carry line breaks (NATS headers are MIME-like); zod's
// pretty messages have them.
function oneLine(s: string): string {
  const flat = s.replace(/\s*[\r\n]+\s*/g, '; ').trim();
  return flat.length > 1000 ? `${flat.slice(0, 997)}...` : flat;
}
