import { type Delivery, PermanentFailure, RetryLater } from '@vreg/bus';
import { ErrorCodes, type FetchRequested, hasCode, relativePathOf } from '@vreg/contracts';
import { blobLeaseKey, type FillDeps, type FillSlots, fillManifest, manifestLeaseKey, recordExistingBlob, startBlobFill } from '@vreg/fill';
import { type FillLease, keepRenewed } from '@vreg/fill-lease';
import type { CatalogLookup } from '../ports/catalog-lookup.ts';

export interface FetchRequestedHandlerDeps {
  fill: FillDeps;
  catalog: CatalogLookup;
  leases: FillLease;
  holderId: string;
  leaseTtlMs: number;
  fillTimeoutMs: number;
  /** Bounds this process's blob fills per upstream: a fill past it is UPSTREAM_BUSY, a "not yet" the bus naks with backoff. */
  slots: FillSlots;
}

/** Thrown while another process holds the fill lease: the message is retried later (nak with backoff). */
export class FillInProgressError extends RetryLater {
  constructor(message: string) {
    super(ErrorCodes.fillInProgress, message);
  }
}

/** Upstream answers that no retry will change: the object does not exist anywhere. */
// A blob past its upstream's size limit will not fit on a retry either, nor will what every upstream sent as a manifest become one.
const GONE = new Set<string>([
  ErrorCodes.manifestUnknown,
  ErrorCodes.blobUnknown,
  ErrorCodes.nameUnknown,
  ErrorCodes.blobTooLarge,
  ErrorCodes.manifestInvalid,
]);

/**
 * Makes sure a requested object ends up stored and recorded. Usually the
 * gateway's own fill did it and this only checks; when that fill was
 * abandoned (client gone, gateway killed, wrong bytes), this fills it.
 */
export function fetchRequestedHandler(deps: FetchRequestedHandlerDeps): (delivery: Delivery<FetchRequested>) => Promise<void> {
  const log = deps.fill.logger;
  return async (delivery) => {
    const { registryId, object } = delivery.data;
    const relativePath = relativePathOf(object);
    try {
      if (await deps.catalog.lookupEntry(registryId, relativePath)) return;
      const key = object.kind === 'blob' ? blobLeaseKey(object.reference) : manifestLeaseKey(registryId, object.image, object.reference);
      const lease = await deps.leases.acquire(key, deps.leaseTtlMs, deps.holderId);
      if (!lease) throw new FillInProgressError(`another filler holds ${key}`);
      const stopRenewing = keepRenewed(lease, deps.leaseTtlMs, {
        onTick: () => delivery.working(),
        onLost: (reason) => log.warn({ key, reason }, 'fill lease lost while filling'),
        onFailed: (err) => log.warn({ key, err: err.message }, 'fill lease renewal failed: retrying'),
      });
      try {
        // Only a fill needs the upstreams: the usual request, whose gateway holds the lease, got no further.
        const registry = await deps.catalog.resolveRegistry(registryId);
        const signal = AbortSignal.timeout(deps.fillTimeoutMs);
        if (object.kind === 'manifest') {
          await fillManifest(deps.fill, registry, object.image, object.reference, signal);
        } else {
          const stored = await deps.fill.store.stat(object.reference);
          if (stored) await recordExistingBlob(deps.fill, registry, object.image, object.reference, stored.size, signal);
          else await (await startBlobFill(deps.fill, registry, object.image, object.reference, { signal, slots: deps.slots })).done;
        }
        log.info({ registryId, relativePath, deliveryCount: delivery.deliveryCount }, 'fetcher filled an object');
      } finally {
        stopRenewing();
        await lease.release();
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== undefined && GONE.has(code)) {
        // Nothing to store: the registry is gone or no upstream has the object.
        log.info({ registryId, relativePath, code }, 'fetch request dropped');
        return;
      }
      if (hasCode(err, ErrorCodes.digestInvalid) || hasCode(err, ErrorCodes.nameInvalid))
        throw new PermanentFailure((err as Error).message, { cause: err });
      throw err;
    }
  };
}
