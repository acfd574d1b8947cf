import type { RegistryView } from '@vreg/contracts';
import { blobLeaseKey, Spool, startBlobFill } from '@vreg/fill';
import { keepRenewed } from '@vreg/fill-lease';
import { type RequestedRange, satisfyRange } from '../domain/byte-range.ts';
import type { BlobServiceDeps } from './blob-service.ts';
import { CacheResults, type ServedObject } from './served-object.ts';

interface RunningFill {
  spool: Spool;
  contentType: string;
  size: number | undefined;
}

/**
 * The blob fills running in this process, so concurrent misses share one
 * upstream download: the first request starts the fill under the lease and
 * every request, first or late, reads the spool from byte 0 at its own pace.
 * Keyed by registry, image and digest: the upstream confirmed the blob for
 * that repository only. State belongs to the instance.
 */
export class InFlightBlobs {
  readonly #deps: BlobServiceDeps;
  readonly #fills = new Map<string, Promise<RunningFill | undefined>>();

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#fills.size;
  }

  /**
   * Streams the blob from the fill running here, starting one if none runs.
   * Resolves undefined when another process holds the fill lease.
   */
  async join(registry: RegistryView, image: string, digest: string, requested?: RequestedRange): Promise<ServedObject | undefined> {
    const key = `${registry.id}|${image}|${digest}`;
    let pending = this.#fills.get(key);
    const starter = pending === undefined;
    if (!pending) {
      // Registered before the first await, so a concurrent request finds it.
      pending = this.#start(key, registry, image, digest);
      this.#fills.set(key, pending);
      pending.then(
        (fill) => {
          if (!fill) this.#fills.delete(key);
        },
        () => this.#fills.delete(key),
      );
    }
    const fill = await pending;
    if (!fill) return undefined;
    const cache = starter ? CacheResults.miss : CacheResults.coalesced;
    // A ranged miss still fills the whole blob once; the client gets its range from the spool.
    const range = requested === undefined ? undefined : satisfyRange(requested, fill.size);
    if (!range) return { digest, contentType: fill.contentType, size: fill.size, body: fill.spool.reader(), cache };
    return { digest, contentType: fill.contentType, size: range.end - range.start + 1, body: fill.spool.reader(range), cache, range };
  }

  async #start(key: string, registry: RegistryView, image: string, digest: string): Promise<RunningFill | undefined> {
    const deps = this.#deps;
    const lease = await deps.leases.acquire(blobLeaseKey(digest), deps.leaseTtlMs, deps.holderId);
    if (!lease) return undefined;
    // Lease first, then the request: a fetcher that sees the request finds the lease taken and waits.
    await deps.fetches.request(registry.id, { kind: 'blob', image, reference: digest });
    const stopRenewing = keepRenewed(lease, deps.leaseTtlMs, {
      onLost: (reason) => deps.logger.warn({ key: lease.key, reason }, 'fill lease lost while filling'),
    });
    let spool: Spool | undefined;
    try {
      spool = await Spool.create(deps.spoolDir);
      // The fill has its own deadline: it keeps going when its clients leave.
      const fill = await startBlobFill(deps.fill, registry, image, digest, {
        store: true,
        spool,
        signal: AbortSignal.timeout(deps.fillTimeoutMs),
      });
      const running: RunningFill = { spool, contentType: fill.contentType, size: fill.size };
      const owned = spool;
      fill.done
        .then((entry) => deps.catalog.remember(registry.id, entry))
        .catch((err: Error & { code?: string }) =>
          deps.logger.warn({ registryId: registry.id, digest, code: err.code, err: err.message }, 'blob fill failed'),
        )
        .finally(() => {
          // Forget the fill before dropping our spool reference: no one may join a closing spool.
          this.#fills.delete(key);
          stopRenewing();
          void lease.release();
          void owned.release();
        });
      return running;
    } catch (err) {
      stopRenewing();
      void lease.release();
      if (spool) void spool.release();
      throw err;
    }
  }
}
