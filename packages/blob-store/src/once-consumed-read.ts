import { addAbortSignal, type Readable, type Writable } from 'node:stream';
import type { BlobRead, BlobWriteToOptions } from './blob-store.ts';

/**
 * What every `BlobRead` shares: it is consumed once, through `body` (made on
 * first access, so a `writeTo` caller never creates one) or through
 * `writeTo`, never both; the read's own signal ends either.
 */
export abstract class OnceConsumedRead implements BlobRead {
  abstract readonly size: number;
  readonly #signal: AbortSignal | undefined;
  #body: Readable | undefined;
  #consumed = false;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  get body(): Readable {
    if (this.#body) return this.#body;
    this.#claim('body');
    const body = this.openBody();
    if (this.#signal) addAbortSignal(this.#signal, body);
    this.#body = body;
    return body;
  }

  async writeTo(destination: Writable, options: BlobWriteToOptions = {}): Promise<void> {
    this.#claim('writeTo');
    const signals = [this.#signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    return this.write(destination, signals, options.onWritten);
  }

  /** The bytes as a stream. */
  protected abstract openBody(): Readable;

  /** Writes every byte to `destination`, stopping between chunks once one of `signals` aborts. */
  protected abstract write(destination: Writable, signals: AbortSignal[], onWritten: ((bytes: number) => void) | undefined): Promise<void>;

  #claim(how: string): void {
    if (this.#consumed) throw new Error(`a blob read is consumed once; ${how} came second`);
    this.#consumed = true;
  }
}
