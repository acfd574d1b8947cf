import type { Lease } from './fill-lease.ts';

/** What `keepRenewed` tells its caller. Hooks must be cheap and never throw. */
export interface KeepRenewedHooks {
  /** Runs on every renewal attempt (a consumer uses it to tell the server it is still working). */
  onTick?: () => void;
  /** The lease store says the lease is no longer ours (it expired or changed hands); renewing stops. */
  onLost?: (reason: string) => void;
  /** A renewal could not reach the lease store; the next attempt comes sooner. */
  onFailed?: (err: Error) => void;
}

/**
 * Renews a held lease while a fill runs, so its holder keeps it however long
 * the download takes. Renewals never overlap, and each is due a third of
 * the TTL after the previous one was *sent* (the store counted its TTL from
 * when it got it, which is no earlier): a renewal delayed by a slow event
 * loop or a slow answer goes out as soon as it can, and whether it still
 * finds the lease is the store's decision, never the local clock's. A
 * renewal that failed in transit is retried after a tenth of the TTL.
 * Returns the stop function.
 */
export function keepRenewed(lease: Lease, ttlMs: number, hooks: KeepRenewedHooks = {}): () => void {
  const everyMs = Math.max(250, Math.floor(ttlMs / 3));
  const retryMs = Math.max(100, Math.floor(ttlMs / 10));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(renew, Math.max(0, delayMs));
    timer.unref();
  };
  const renew = (): void => {
    if (stopped) return;
    const sentAt = performance.now();
    hooks.onTick?.();
    lease.renew().then(
      (kept) => {
        if (kept) schedule(sentAt + everyMs - performance.now());
        else if (!stopped) hooks.onLost?.('lease taken over or expired');
      },
      (err: Error) => {
        if (!stopped) hooks.onFailed?.(err);
        schedule(retryMs);
      },
    );
  };
  schedule(everyMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
