import type { StreamRetention } from '@vreg/contracts';
import type { MemoryConsumer } from './memory-consumer.ts';

/** One message as a memory stream stores it: text, so nothing is shared by reference. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** The JSON payload. */
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly msgId: string | undefined;
  /** Epoch ms it was stored. */
  readonly storedAt: number;
}

/** Limits of a memory stream. */
export interface MemoryStreamLimits {
  /** Milliseconds a message is kept. */
  maxAgeMs: number;
  /** Messages kept; the oldest go first. */
  maxMessages: number;
  /** Payload bytes kept; the oldest go first. */
  maxBytes: number;
  /** Milliseconds a `msgId` is remembered for deduplication. */
  duplicateWindowMs: number;
}

/**
 * An in-process JetStream stream: a sequence-numbered log with limits
 * (discard old) by age, messages and bytes, a dedup window on `msgId`, and
 * its durable consumers. With `workqueue` retention an acked (or termed)
 * message is gone, and one consumer takes each subject, as on NATS.
 */
export class MemoryStream {
  readonly name: string;
  subjects: readonly string[];
  retention: StreamRetention;
  readonly consumers = new Map<string, MemoryConsumer>();
  readonly #limits: MemoryStreamLimits;
  /** Slot `seq - firstSeq`; a message removed from the middle (workqueue ack) leaves a hole until the front passes it. */
  readonly #log: Array<StoredMessage | undefined> = [];
  #count = 0;
  #bytes = 0;
  // Insertion order is expiry order (the window is fixed), so expired ids
  // are always at the front of the map.
  readonly #seen = new Map<string, number>();
  #lastSeq = 0;

  constructor(name: string, subjects: readonly string[], retention: StreamRetention, limits: MemoryStreamLimits) {
    this.name = name;
    this.subjects = subjects;
    this.retention = retention;
    this.#limits = limits;
  }

  /** True when this stream captures `subject`. */
  captures(subject: string): boolean {
    return this.subjects.some((filter) => subjectMatches(filter, subject));
  }

  /** Messages kept. */
  get size(): number {
    return this.#count;
  }

  /** Payload bytes kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sequence of the first message kept (one past the last when empty). */
  get firstSeq(): number {
    return this.#log[0]?.seq ?? this.#lastSeq + 1;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The message stored under `seq`, if still kept. */
  get(seq: number): StoredMessage | undefined {
    const first = this.#log[0];
    if (!first || seq < first.seq) return undefined;
    return this.#log[seq - first.seq];
  }

  /** Stores a message. Returns undefined when `msgId` is a duplicate inside the window. */
  append(subject: string, text: string, headers: Readonly<Record<string, string>>, msgId: string | undefined): StoredMessage | undefined {
    const now = Date.now();
    this.#forgetExpiredIds(now);
    if (msgId !== undefined) {
      if (this.#seen.has(msgId)) return undefined;
      this.#seen.set(msgId, now + this.#limits.duplicateWindowMs);
    }
    this.#lastSeq += 1;
    const message: StoredMessage = { seq: this.#lastSeq, subject, text, headers: { ...headers }, msgId, storedAt: now };
    if (this.#log.length === 0) this.#log.push(message);
    else this.#log[message.seq - (this.#log[0] as StoredMessage).seq] = message;
    this.#count += 1;
    this.#bytes += Buffer.byteLength(text);
    this.#trim(now);
    for (const consumer of this.consumers.values()) consumer.notify();
    return message;
  }

  /** A consumer is done with `seq` (ack or term): a work queue forgets it. */
  done(seq: number): void {
    if (this.retention === 'workqueue') this.#remove(seq);
  }

  #remove(seq: number): void {
    const message = this.get(seq);
    if (message === undefined) return;
    this.#log[seq - (this.#log[0] as StoredMessage).seq] = undefined;
    this.#count -= 1;
    this.#bytes -= Buffer.byteLength(message.text);
    while (this.#log.length > 0 && this.#log[0] === undefined) this.#log.shift();
  }

  #forgetExpiredIds(now: number): void {
    for (const [id, expiresAt] of this.#seen) {
      if (expiresAt > now) break;
      this.#seen.delete(id);
    }
  }

  /** Drops the oldest messages while any bound is passed. */
  #trim(now: number): void {
    const oldest = now - this.#limits.maxAgeMs;
    for (;;) {
      const first = this.#log[0];
      if (first === undefined) return;
      if (this.#count <= this.#limits.maxMessages && this.#bytes <= this.#limits.maxBytes && first.storedAt >= oldest) return;
      this.#remove(first.seq);
    }
  }
}

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i += 1) {
    const token = f[i];
    if (token === '>') return i === f.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}
