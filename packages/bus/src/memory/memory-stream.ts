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
  /** Milliseconds a `msgId` is remembered for deduplication. */
  duplicateWindowMs: number;
}

/**
 * An in-process JetStream stream: a sequence-numbered log with limits
 * (discard old), a dedup window on `msgId`, and its durable consumers.
 */
export class MemoryStream {
  readonly name: string;
  subjects: readonly string[];
  readonly consumers = new Map<string, MemoryConsumer>();
  readonly #limits: MemoryStreamLimits;
  readonly #log: StoredMessage[] = [];
  // Insertion order is expiry order (the window is fixed), so expired ids
  // are always at the front of the map.
  readonly #seen = new Map<string, number>();
  #lastSeq = 0;

  constructor(name: string, subjects: readonly string[], limits: MemoryStreamLimits) {
    this.name = name;
    this.subjects = subjects;
    this.#limits = limits;
  }

  /** True when this stream captures `subject`. */
  captures(subject: string): boolean {
    return this.subjects.some((filter) => subjectMatches(filter, subject));
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
    this.#log.push(message);
    this.#trim(now);
    for (const consumer of this.consumers.values()) consumer.notify();
    return message;
  }

  #forgetExpiredIds(now: number): void {
    for (const [id, expiresAt] of this.#seen) {
      if (expiresAt > now) break;
      this.#seen.delete(id);
    }
  }

  #trim(now: number): void {
    const oldest = now - this.#limits.maxAgeMs;
    let drop = Math.max(0, this.#log.length - this.#limits.maxMessages);
    while (drop < this.#log.length && (this.#log[drop]?.storedAt ?? now) < oldest) drop += 1;
    if (drop > 0) this.#log.splice(0, drop);
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
