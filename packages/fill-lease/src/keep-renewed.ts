import type { Lease } from './fill-lease.ts';

/**
 * Renews a held lease at a third of its TTL while a fill runs, so its holder
 * keeps it however long the download takes. `onTick` runs on every renewal
 * (a consumer uses it to tell the server it is still working); `onLost`
 * when the lease was taken over or the renewal failed. Returns the stop function.
 */
export function keepRenewed(
  lease: Lease,
  ttlMs: number,
  hooks: { onTick?: () => void; onLost?: (reason: string) => void } = {},
): () => void {
  const timer = setInterval(
    () => {
      hooks.onTick?.();
      lease.renew().then(
        (kept) => {
          if (!kept) hooks.onLost?.('lease taken over');
        },
        (err: Error) => hooks.onLost?.(`renewal failed: ${err.message}`),
      );
    },
    Math.max(250, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
