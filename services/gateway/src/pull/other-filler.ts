import type { FillLease } from '@vreg/fill-lease';

/** How a wait on another process's fill ended. */
export type OtherFillerOutcome<T> = { found: T } | 'free' | 'waiting';

export interface OtherFillerWait<T> {
  /** What the holder's fill leaves once it is done (a stored blob, a recorded manifest); undefined until then. */
  look: () => Promise<T | undefined>;
  leases: FillLease;
  leaseKey: string;
  /** Time between looks, ms. */
  pollMs: number;
  /** Epoch ms: past it, 'waiting'. */
  until: number;
  /**
   * How long the lease may stay free before 'free', ms: a result the holder
   * announces elsewhere (a catalog record) may still be on its way when it
   * let go. 0: at once.
   */
  graceMs?: number;
  /** Ends the wait with 'waiting' too. */
  signal?: AbortSignal;
}

/**
 * Waits while another process holds a fill's lease: every `pollMs` it looks
 * for the holder's result, then asks the lease store who holds the lease.
 * Resolves `{ found }`, 'free' once the lease has been free for `graceMs`
 * (the holder gave up or died: the caller may fill it itself), or 'waiting'
 * at `until` or `signal`. A holder that is only slow keeps its lease and is
 * waited for: nothing here decides by the local clock that it is dead.
 */
export async function awaitOtherFiller<T>(wait: OtherFillerWait<T>): Promise<OtherFillerOutcome<T>> {
  let freeSince: number | undefined;
  while (Date.now() < wait.until && !wait.signal?.aborted) {
    await new Promise((r) => setTimeout(r, wait.pollMs));
    const found = await wait.look();
    if (found !== undefined) return { found };
    if ((await wait.leases.holderOf(wait.leaseKey)) !== undefined) freeSince = undefined;
    else if (Date.now() - (freeSince ??= Date.now()) >= (wait.graceMs ?? 0)) return 'free';
  }
  return 'waiting';
}
