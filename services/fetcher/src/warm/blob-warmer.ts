import { BlobUnknownError, type RegistryView, relativePathOf } from '@vreg/contracts';
import { blobLeaseKey, type FillDeps, recordExistingBlob, startBlobFill } from '@vreg/fill';
import { type FillLease, keepRenewed } from '@vreg/fill-lease';
import type { CatalogLookup } from '../ports/catalog-lookup.ts';
import type { ObjectOutcome } from './warm-progress.ts';

export interface BlobWarmerDeps {
  fill: FillDeps;
  catalog: CatalogLookup;
  leases: FillLease;
  holderId: string;
  leaseTtlMs: number;
  /** How often a warm waiting on another process's fill checks for the object, ms. */
  waitPollMs: number;
}

/**
 * Makes sure one blob is stored and recorded for the registry, the way a
 * pull's miss would: nothing to do when the registry already has the entry;
 * a HEAD and a record (no download) when the store already has the bytes;
 * otherwise a verified download under the fill lease, so a gateway or
 * fetcher filling the same digest at the same time is waited for, never
 * duplicated. `onBytes` hears the download's chunks as they arrive.
 */
export async function warmBlob(
  deps: BlobWarmerDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  signal: AbortSignal,
  onBytes?: (bytes: number) => void,
): Promise<ObjectOutcome> {
  const relativePath = relativePathOf({ kind: 'blob', image, reference: digest });
  for (;;) {
    signal.throwIfAborted();
    const entry = await deps.catalog.lookupEntry(registry.id, relativePath);
    const stored = await deps.fill.store.stat(digest, signal);
    if (entry && stored) return 'cached';
    if (stored) {
      await recordExistingBlob(deps.fill, registry, image, digest, stored.size, signal);
      return 'cached';
    }
    const lease = await deps.leases.acquire(blobLeaseKey(digest), deps.leaseTtlMs, deps.holderId);
    if (!lease) {
      await waitForOtherFiller(deps, digest, signal);
      continue;
    }
    const stopRenewing = keepRenewed(lease, deps.leaseTtlMs, {
      onLost: (reason) => deps.fill.logger.warn({ digest, reason }, 'fill lease lost while warming a blob'),
      onFailed: (err) => deps.fill.logger.warn({ digest, err: err.message }, 'fill lease renewal failed: retrying'),
    });
    try {
      // The previous holder may have committed between our stat and our acquire.
      const committed = await deps.fill.store.stat(digest, signal);
      if (committed) {
        await recordExistingBlob(deps.fill, registry, image, digest, committed.size, signal);
        return 'cached';
      }
      await (await startBlobFill(deps.fill, registry, image, digest, { signal, ...(onBytes ? { onBytes } : {}) })).done;
      return 'downloaded';
    } finally {
      stopRenewing();
      await lease.release();
    }
  }
}

/** Until the other filler's commit shows up in the store or its lease is gone (then we take over). */
async function waitForOtherFiller(deps: BlobWarmerDeps, digest: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    await new Promise((r) => setTimeout(r, deps.waitPollMs));
    if (signal.aborted) throw signal.reason ?? new BlobUnknownError('warm aborted while waiting for another filler', { digest });
    if (await deps.fill.store.stat(digest, signal)) return;
    if ((await deps.leases.holderOf(blobLeaseKey(digest))) === undefined) return;
  }
}
