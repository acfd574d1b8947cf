import { type RegistryView, UpstreamBusyError } from '@vreg/contracts';
import { BUSY_RETRY_AFTER_SECONDS, blobLeaseKey, type Spool, startSpooledBlobFill } from '@vreg/fill';
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
 * What a request found when it went for the fill: a fill running here (its
 * bytes), the object already stored (it was committed before this process
 * took the lease), or another process holding the lease.
 */
export type Joined = { kind: 'filling'; served: ServedObject } | { kind: 'stored' } | { kind: 'elsewhere' };

/**
 * The blob fills running in this process, so concurrent misses share one
 * upstream download: the first request starts the fill under the lease and
 * every request, first or late, reads the spool from byte 0 at its own pace.
 * Keyed by registry, image and digest: the upstream confirmed the blob for
 * that repository only. State belongs to the instance.
 */
export class InFlightBlobs {
  readonly #deps: BlobServiceDeps;
  readonly #fills = new Map<string, Promise<RunningFill | 'stored' | 'elsewhere'>>();

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#fills.size;
  }

  /** Streams the blob from the fill running here, starting one under the fill lease if none runs. */
  async join(registry: RegistryView, image: string, digest: string, requested?: RequestedRange): Promise<Joined> {
    const key = `${registry.id}|${image}|${digest}`;
    let pending = this.#fills.get(key);
    const starter = pending === undefined;
    if (!pending) {
      // Registered before the first await, so a concurrent request finds it.
      pending = this.#start(key, registry, image, digest);
      this.#fills.set(key, pending);
      pending.then(
        (fill) => {
          if (typeof fill === 'string') this.#fills.delete(key);
        },
        () => this.#fills.delete(key),
      );
    }
    const fill = await pending;
    if (typeof fill === 'string') return { kind: fill };
    const cache = starter ? CacheResults.miss : CacheResults.coalesced;
    // A ranged miss still fills the whole blob once; the client gets its range from the spool.
    const range = requested === undefined ? undefined : satisfyRange(requested, fill.size);
    const served: ServedObject = range
      ? { digest, contentType: fill.contentType, size: range.end - range.start + 1, body: fill.spool.reader(range), cache, range }
      : { digest, contentType: fill.contentType, size: fill.size, body: fill.spool.reader(), cache };
    return { kind: 'filling', served };
  }

  /**
   * Before the first upstream byte: the lease (one round trip), then the
   * store check (one), then the upstream request. The fetch request's publish
   * overlaps the upstream request instead of preceding it.
   */
  async #start(key: string, registry: RegistryView, image: string, digest: string): Promise<RunningFill | 'stored' | 'elsewhere'> {
    const deps = this.#deps;
    const lease = await deps.leases.acquire(blobLeaseKey(digest), deps.leaseTtlMs, deps.holderId);
    if (!lease) return 'elsewhere';
    let stopRenewing: (() => void) | undefined;
    try {
      // The lease elects one filler among those that have not seen the object stored. The last
      // holder may have committed and let go between our caller's look-up and our acquire (on a
      // starved machine that gap is long: two downloads of one blob), so look while holding it.
      if (await deps.store.stat(digest)) {
        void lease.release();
        return 'stored';
      }
      // Refused only when this process would download (a blob stored, or filled by another
      // process, costs no upstream download here), and before the fetch request: a flood of
      // abandoned downloads must not leave fills queued for the fetcher either. Nothing awaits
      // between this check and the fill taking its slot (unless a full upstream is skipped
      // first), so a concurrent miss rarely takes it; if one does, this miss is refused the
      // same way and the fetcher completes its request later.
      if (!registry.upstreams.some((u) => deps.fillSlots.hasRoom(u.id)))
        throw new UpstreamBusyError(
          'every upstream of this registry already runs as many downloads as this process allows (VREG_UPSTREAM_MAX_CONCURRENT_FILLS): retry later',
          BUSY_RETRY_AFTER_SECONDS,
        );
      stopRenewing = keepRenewed(lease, deps.leaseTtlMs, {
        onLost: (reason) => deps.logger.warn({ key: lease.key, reason }, 'fill lease lost while filling'),
        onFailed: (err) => deps.logger.warn({ key: lease.key, err: err.message }, 'fill lease renewal failed: retrying'),
      });
      // Lease first, then the request: a fetcher that sees the request finds the lease taken and
      // waits. That holds as soon as the publish starts after the acquire, so the publish need not
      // finish before the upstream request; clients get their last bytes only once it has, so a
      // client that got the whole blob can count on the object ending up stored.
      const requested = deps.fetches.request(registry.id, { kind: 'blob', image, reference: digest });
      // The fill has its own deadline: it keeps going when its clients leave.
      const fill = await startSpooledBlobFill(deps.fill, registry, image, digest, {
        spoolDir: deps.spoolDir,
        signal: AbortSignal.timeout(deps.fillTimeoutMs),
        endAfter: requested,
        slots: deps.fillSlots,
      });
      const { spool } = fill;
      const stop = stopRenewing;
      fill.done
        .then((entry) => deps.catalog.remember(registry.id, entry))
        .catch((err: Error & { code?: string }) =>
          deps.logger.warn({ registryId: registry.id, digest, code: err.code, err: err.message }, 'blob fill failed'),
        )
        .finally(() => {
          // Forget the fill before dropping our spool reference: no one may join a closing spool.
          this.#fills.delete(key);
          stop();
          void lease.release();
          void spool.release();
        });
      return { spool, contentType: fill.contentType, size: fill.size };
    } catch (err) {
      stopRenewing?.();
      void lease.release();
      throw err;
    }
  }
}
