import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@vreg/logging';
import { IpcLink } from './ipc-link.ts';
import { WorkerKinds } from './kinds.ts';

/** The environment variable a worker finds its slot in (1..count): stable across restarts, a metrics label. */
export const WORKER_SLOT_ENV = 'VREG_WORKER_SLOT';

export interface WorkerSupervisorOptions {
  /** Worker processes to keep running. */
  count: number;
  logger: Logger;
  /** Wires a new worker's link (the bus, leases, metrics it asks the primary for); returns what to undo when it exits. */
  attach(link: IpcLink, slot: number): () => Promise<void>;
  /** Milliseconds every worker gets at start-up to listen. Default 120 s (a worker running TypeScript through tsx compiles first). */
  startTimeoutMs?: number;
  /** Milliseconds stopping workers get to finish their requests before they are killed. Default 30 s. */
  stopTimeoutMs?: number;
}

interface Slot {
  slot: number;
  worker: Worker | undefined;
  link: IpcLink | undefined;
  detach: (() => Promise<void>) | undefined;
  startedAt: number;
  /** Exits soon after start, in a row: the restart waits longer each time. */
  quickExits: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/** A worker that lived this long before exiting was not crashing at start-up. */
const HEALTHY_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The primary of a cluster (node:cluster): forks `count` workers running
 * this same program, which listen on the same address (the primary hands
 * out connections round-robin); restarts one that dies (at once, or after
 * a growing delay when it keeps dying at start-up); stops them gracefully:
 * each is asked to finish its requests and exit, and is killed only when it
 * overruns the stop timeout.
 */
export class WorkerSupervisor {
  readonly #options: WorkerSupervisorOptions;
  readonly #log: Logger;
  readonly #slots: Slot[];
  #stopping = false;
  #address: { address: string; port: number } | undefined;

  constructor(options: WorkerSupervisorOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'worker-supervisor' });
    this.#slots = Array.from({ length: options.count }, (_, i) => ({
      slot: i + 1,
      worker: undefined,
      link: undefined,
      detach: undefined,
      startedAt: 0,
      quickExits: 0,
      restartTimer: undefined,
    }));
  }

  /** Forks every worker; resolves once each listens. @throws when one exits or overruns the start timeout first. */
  async start(): Promise<void> {
    await Promise.all(this.#slots.map((s) => this.#fork(s)));
    this.#log.info({ workers: this.#slots.length }, 'workers listening');
  }

  /** The links of the workers running now, with their slots. */
  links(): Array<{ slot: number; link: IpcLink }> {
    return this.#slots.flatMap((s) => (s.link ? [{ slot: s.slot, link: s.link }] : []));
  }

  /** Where the workers listen (known once one does): `http://host:port`. */
  url(): string | undefined {
    if (!this.#address) return undefined;
    const { address, port } = this.#address;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** Pids of the workers running now. */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.worker?.process.pid === undefined ? [] : [s.worker.process.pid]));
  }

  /** Asks every worker to finish and exit; kills those still running after the stop timeout. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const timeoutMs = this.#options.stopTimeoutMs ?? 30_000;
    await Promise.all(
      this.#slots.map(async (s) => {
        clearTimeout(s.restartTimer);
        const worker = s.worker;
        if (!worker || worker.isDead()) return;
        const exited = new Promise<void>((r) => worker.once('exit', () => r()));
        s.link?.notify(WorkerKinds.shutdown, null);
        const timer = setTimeout(() => {
          this.#log.warn({ slot: s.slot, pid: worker.process.pid }, 'worker did not stop in time; killing it');
          worker.process.kill('SIGKILL');
        }, timeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #fork(s: Slot): Promise<void> {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(s.slot) });
    const link = new IpcLink(worker);
    s.worker = worker;
    s.link = link;
    s.startedAt = Date.now();
    s.detach = this.#options.attach(link, s.slot);
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${s.slot} did not listen within ${this.#options.startTimeoutMs ?? 120_000} ms`)),
        this.#options.startTimeoutMs ?? 120_000,
      );
      worker.once('listening', (address) => {
        clearTimeout(timer);
        this.#address ??= { address: address.address ?? '127.0.0.1', port: address.port };
        resolve();
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker ${s.slot} exited before it listened (code ${code}, signal ${signal})`));
      });
    });
    worker.once('exit', (code, signal) => void this.#exited(s, worker, code, signal));
    return listening;
  }

  async #exited(s: Slot, worker: Worker, code: number | null, signal: string | null): Promise<void> {
    if (s.worker !== worker) return;
    s.link?.close('the worker exited');
    s.worker = undefined;
    s.link = undefined;
    await s.detach?.().catch(() => undefined);
    s.detach = undefined;
    if (this.#stopping) return;
    s.quickExits = Date.now() - s.startedAt < HEALTHY_AFTER_MS ? s.quickExits + 1 : 0;
    const delayMs = s.quickExits === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (s.quickExits - 1));
    this.#log.error({ slot: s.slot, pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker exited; starting another');
    s.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#fork(s).catch((err: unknown) => this.#log.error({ slot: s.slot, err }, 'restarted worker failed to start'));
    }, delayMs);
  }
}
