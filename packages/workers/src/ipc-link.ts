import { AppError, type ErrorCode } from '@vreg/contracts';

/** One side of a process's IPC channel: `process` in a worker, a cluster `Worker` in the primary. */
export interface IpcEndpoint {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  removeListener(event: 'message', listener: (message: unknown) => void): unknown;
}

/** What goes over the channel; `vregIpc` tells our messages from node's own (cluster's). */
type Wire =
  | { vregIpc: 1; kind: string; id?: number; body: unknown }
  | { vregIpc: 1; re: number; ok: true; body: unknown }
  | { vregIpc: 1; re: number; ok: false; error: WireError };

/** An error as it crosses: an AppError's code and detail survive. */
interface WireError {
  message: string;
  code?: string;
  detail?: unknown;
}

type Handler = (body: unknown) => unknown;

/** The link's own failure: no answer in time, or the other process went away. */
export class IpcUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpcUnavailableError';
  }
}

/**
 * Request/reply and one-way notices over a process IPC channel (JSON
 * messages). A handler's result is the reply; an error it throws comes back
 * as an `AppError` with the same code (so callers check codes as they would
 * in one process), or a plain Error. Requests time out; closing the link
 * fails the ones still waiting.
 */
export class IpcLink {
  readonly #endpoint: IpcEndpoint;
  readonly #handlers = new Map<string, Handler>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #listener = (message: unknown): void => this.#receive(message);
  #nextId = 1;
  #closed: string | undefined;

  constructor(endpoint: IpcEndpoint) {
    this.#endpoint = endpoint;
    endpoint.on('message', this.#listener);
  }

  /** Answers requests (and notices) of `kind`. */
  handle(kind: string, handler: Handler): void {
    this.#handlers.set(kind, handler);
  }

  /**
   * Asks the other side; resolves its handler's result.
   * @throws IpcUnavailableError after `timeoutMs` or when the link closes; the handler's error otherwise.
   */
  request<T>(kind: string, body: unknown, timeoutMs: number): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(new IpcUnavailableError(`${kind}: ${this.#closed}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new IpcUnavailableError(`${kind}: no answer from the other process within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#send({ vregIpc: 1, kind, id, body });
    });
  }

  /** A one-way notice; dropped once the link is closed. */
  notify(kind: string, body: unknown): void {
    if (this.#closed === undefined) this.#send({ vregIpc: 1, kind, body });
  }

  /** Stops listening and fails whatever is still waiting. */
  close(reason = 'the link is closed'): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#endpoint.removeListener('message', this.#listener);
    for (const [id, waiting] of this.#pending) {
      clearTimeout(waiting.timer);
      this.#pending.delete(id);
      waiting.reject(new IpcUnavailableError(reason));
    }
  }

  #send(message: Wire): void {
    try {
      this.#endpoint.send(message);
    } catch (err) {
      // The channel closed under us (the other process died): the requester's timeout or close() reports it.
      if (message.vregIpc && 'id' in message && message.id !== undefined) {
        const waiting = this.#pending.get(message.id);
        if (waiting) {
          clearTimeout(waiting.timer);
          this.#pending.delete(message.id);
          waiting.reject(new IpcUnavailableError(`the other process is gone: ${(err as Error).message}`));
        }
      }
    }
  }

  #receive(message: unknown): void {
    if (typeof message !== 'object' || message === null || (message as { vregIpc?: unknown }).vregIpc !== 1) return;
    const wire = message as Wire;
    if ('re' in wire) {
      const waiting = this.#pending.get(wire.re);
      if (!waiting) return; // timed out already
      clearTimeout(waiting.timer);
      this.#pending.delete(wire.re);
      if (wire.ok) waiting.resolve(wire.body);
      else waiting.reject(toError(wire.error));
      return;
    }
    const handler = this.#handlers.get(wire.kind);
    const id = wire.id;
    if (id === undefined) {
      if (handler)
        void Promise.resolve()
          .then(() => handler(wire.body))
          .catch(() => undefined);
      return;
    }
    if (!handler) {
      this.#send({ vregIpc: 1, re: id, ok: false, error: { message: `no handler for ${wire.kind}` } });
      return;
    }
    void Promise.resolve()
      .then(() => handler(wire.body))
      .then(
        (body) => this.#send({ vregIpc: 1, re: id, ok: true, body }),
        (err: unknown) => this.#send({ vregIpc: 1, re: id, ok: false, error: toWire(err) }),
      );
  }
}

function toWire(err: unknown): WireError {
  const { code, detail } = (err ?? {}) as { code?: unknown; detail?: unknown };
  return {
    message: err instanceof Error ? err.message : String(err),
    ...(typeof code === 'string' ? { code } : {}),
    ...(detail === undefined ? {} : { detail }),
  };
}

function toError(error: WireError): Error {
  return error.code === undefined
    ? new Error(error.message)
    : new AppError(error.code as ErrorCode, error.message, error.detail === undefined ? undefined : { detail: error.detail });
}
