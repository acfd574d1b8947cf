/** V8's collector as `--expose-gc` gives it (`globalThis.gc`). */
export type Collect = (options: { type: 'minor' }) => void;

/** One scavenge per this many upstream bytes: the dead buffers it leaves stay near this much per process. */
const SCAVENGE_EVERY_BYTES = 16 * 1024 * 1024;

/**
 * Bounds the dead upstream buffers fills leave between garbage collections.
 *
 * Node reads a socket into a new ArrayBuffer per read (up to 64 KiB), so a
 * fill at loopback or data-centre speed makes hundreds of MB of them a
 * second, each dead once the store, the spool and the clients are done with
 * it. V8 frees a young ArrayBuffer only at a scavenge, which JavaScript
 * allocation drives, and a fill allocates little JavaScript; the pressure of
 * external memory starts a full collection only some 64 MB later. Sampled
 * in the process during a cold 200 MiB fill read by 50 clients at once
 * (`VREG_BENCH_ONLY=rss npm run bench`): array buffers peaked at 63-75 MB
 * without this bound, 36-41 MB with it.
 * A scavenge of a young generation this small is short: 200 of them, each
 * after 16 MiB of 64 KiB buffers, took a median of 0.09-0.15 ms and a p99
 * of 0.7-3.7 ms here (`node --expose-gc --max-semi-space-size=8`, two runs).
 *
 * Needs `--expose-gc` (the image's NODE_OPTIONS and scripts/start.sh pass
 * it); without it, `add` does nothing.
 */
export class YoungGarbageBound {
  readonly #collect: Collect | undefined;
  readonly #everyBytes: number;
  #since = 0;

  constructor(collect: Collect | undefined, everyBytes = SCAVENGE_EVERY_BYTES) {
    this.#collect = collect;
    this.#everyBytes = everyBytes;
  }

  /** Counts bytes that arrived in buffers of their own; past the bound, one scavenge. */
  add(bytes: number): void {
    if (this.#collect === undefined) return;
    this.#since += bytes;
    if (this.#since < this.#everyBytes) return;
    this.#since = 0;
    this.#collect({ type: 'minor' });
  }
}

/** `globalThis.gc` when the process was started with `--expose-gc`. */
function exposedGc(): Collect | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as Collect) : undefined;
}

/** The process's bound, shared by all its fills: one heap, one count. */
export const upstreamBuffers = new YoungGarbageBound(exposedGc());
