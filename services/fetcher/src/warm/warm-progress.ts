import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import { MAX_WARM_ERROR_CHARS, Subjects, type WarmProgress, type WarmResult, type WarmState } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';

/** Most errors one attempt reports (the job keeps at most 100 too). */
const MAX_ERRORS = 100;

/** How one object of a warm ended. */
export type ObjectOutcome = 'downloaded' | 'cached';

/**
 * The counters of one warm attempt, and their `warm.progress` snapshots:
 * absolute values, published at most every `minIntervalMs` while running
 * (always on start and at the end), in order, one at a time. Between
 * `startHeartbeat()` and the end, a snapshot also goes out at least every
 * `heartbeatMs`, changed or not: the catalog fails a warm it has not heard
 * of for VREG_WARM_ABANDON_MS, so a long layer must not look like a dead fetcher.
 */
export class WarmProgressReporter {
  objectsDone = 0;
  bytesDone = 0;
  objectsTotal: number | undefined;
  bytesTotal: number | undefined;
  objectsDownloaded = 0;
  objectsAlreadyCached = 0;
  bytesDownloaded = 0;
  readonly errors: string[] = [];
  readonly #bus: EventBus;
  readonly #ids: { jobId: string; registryId: string };
  readonly #minIntervalMs: number;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;
  /** Bytes of blobs still streaming, counted in the snapshots' bytesDone until they settle. */
  #streamingBytes = 0;
  #lastPublishAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(bus: EventBus, ids: { jobId: string; registryId: string }, logger: Logger, minIntervalMs = 500, heartbeatMs = 10_000) {
    this.#bus = bus;
    this.#heartbeatMs = heartbeatMs;
    this.#ids = ids;
    this.#log = logger;
    this.#minIntervalMs = minIntervalMs;
  }

  /** Totals are known once every chosen manifest has been read. */
  setTotals(objects: number, bytes: number): void {
    this.objectsTotal = objects;
    this.bytesTotal = bytes;
    this.#changed();
  }

  /** One object (manifest or blob) is stored and announced. */
  objectDone(size: number, outcome: ObjectOutcome): void {
    this.objectsDone += 1;
    this.bytesDone += size;
    if (outcome === 'downloaded') {
      this.objectsDownloaded += 1;
      this.bytesDownloaded += size;
    } else {
      this.objectsAlreadyCached += 1;
    }
    this.#changed();
  }

  /**
   * A blob download under way: `onBytes` counts its chunks into the next
   * snapshots' bytes done; `settle()` takes them back (call it before
   * `objectDone`, which counts the whole blob, or when the blob failed).
   */
  streamingBlob(): { onBytes: (bytes: number) => void; settle: () => void } {
    let counted = 0;
    return {
      onBytes: (bytes) => {
        counted += bytes;
        this.#streamingBytes += bytes;
        this.#changed();
      },
      settle: () => {
        this.#streamingBytes -= counted;
        counted = 0;
      },
    };
  }

  /** From now until `finish()` or `stopHeartbeat()`, a snapshot at least every `heartbeatMs`. */
  startHeartbeat(): void {
    this.#beating = true;
    this.#armHeartbeat();
  }

  stopHeartbeat(): void {
    this.#beating = false;
    clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Lists an error for the job; a message past the snapshot's limit is cut (upstream text and asked platform lists can be long). */
  error(message: string): void {
    const fitting = message.length > MAX_WARM_ERROR_CHARS ? `${message.slice(0, MAX_WARM_ERROR_CHARS - 1)}…` : message;
    if (this.errors.length < MAX_ERRORS) this.errors.push(fitting);
    this.#changed();
  }

  /** Publishes a `running` snapshot now (the job starts, or a retry is about to happen). Never throws. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#publish('running').catch((err: Error) =>
      this.#log.warn({ jobId: this.#ids.jobId, err: err.message }, 'warm progress not published'),
    );
  }

  /**
   * Publishes the end state. Throws when the bus cannot take it, so the
   * command is redelivered rather than the job left running forever.
   */
  async finish(state: Exclude<WarmState, 'running'>, result?: WarmResult): Promise<void> {
    this.stopHeartbeat();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#publish(state, result);
  }

  #changed(): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastPublishAt + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, wait);
    this.#timer.unref();
  }

  /** Re-armed by every publish: the next heartbeat is due `heartbeatMs` after the last snapshot. */
  #armHeartbeat(): void {
    clearTimeout(this.#heartbeat);
    if (!this.#beating) return;
    this.#heartbeat = setTimeout(() => void this.flush(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #publish(state: WarmState, result?: WarmResult): Promise<void> {
    this.#lastPublishAt = Date.now();
    this.#armHeartbeat();
    const event: WarmProgress = {
      eventId: randomUUID(),
      ...this.#ids,
      state,
      objectsDone: this.objectsDone,
      ...(this.objectsTotal === undefined ? {} : { objectsTotal: this.objectsTotal }),
      bytesDone: this.bytesDone + Math.max(0, this.#streamingBytes),
      ...(this.bytesTotal === undefined ? {} : { bytesTotal: this.bytesTotal }),
      errors: [...this.errors],
      ...(result ? { result } : {}),
      at: new Date().toISOString(),
    };
    // One at a time, in order: a later snapshot never overtakes an earlier one from this process.
    const next = this.#chain.then(() => this.#bus.publish(Subjects.warmProgress, event)).then(() => undefined);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
