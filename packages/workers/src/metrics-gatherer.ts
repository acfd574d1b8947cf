import { mergeExpositions, withoutGauges } from '@vreg/telemetry';
import type { IpcLink } from './ipc-link.ts';
import { WorkerKinds } from './kinds.ts';

/** Milliseconds a worker gets to render its metrics for a scrape. */
const RENDER_TIMEOUT_MS = 5_000;

/**
 * `/metrics` of a cluster: the primary's own exposition and every worker's,
 * merged (`mergeExpositions`). A worker that does not answer in time counts
 * with its last answer; one that exited keeps counting with its last
 * counters and histograms, so totals never fall when a worker is replaced.
 */
export class MetricsGatherer {
  readonly #renderOwn: () => Promise<string>;
  readonly #workers: () => ReadonlyArray<{ slot: number; link: IpcLink }>;
  readonly #last = new Map<number, string>();
  readonly #retired: string[] = [];

  constructor(renderOwn: () => Promise<string>, workers: () => ReadonlyArray<{ slot: number; link: IpcLink }>) {
    this.#renderOwn = renderOwn;
    this.#workers = workers;
  }

  async gather(): Promise<string> {
    const live = await Promise.all(
      this.#workers().map(async ({ slot, link }) => {
        try {
          const text = await link.request<string>(WorkerKinds.renderMetrics, null, RENDER_TIMEOUT_MS);
          this.#last.set(slot, text);
          return text;
        } catch {
          return this.#last.get(slot) ?? '';
        }
      }),
    );
    return mergeExpositions([await this.#renderOwn(), ...live, ...this.#retired]);
  }

  /** The worker in `slot` exited: its last counters stay in the totals. */
  retire(slot: number): void {
    const last = this.#last.get(slot);
    this.#last.delete(slot);
    if (last !== undefined) this.#retired.splice(0, this.#retired.length, mergeExpositions([...this.#retired, withoutGauges(last)]));
  }
}
