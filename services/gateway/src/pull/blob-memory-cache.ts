import { type BlobStore, HotBlobTier } from '@vreg/blob-store';
import { ErrorCodes } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { VregMetrics } from '@vreg/telemetry';
import type { GatewayPullConfig } from '../config.ts';

/**
 * The store the pull path reads blobs from: `store` behind a memory tier for
 * the most-read blobs (VREG_BLOB_MEMORY_CACHE_BYTES; 0 reads the store
 * alone). Fills, garbage collection and the fetcher use `store` itself.
 */
export function blobMemoryCache(
  config: Pick<GatewayPullConfig, 'VREG_BLOB_MEMORY_CACHE_BYTES' | 'VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES'>,
  store: BlobStore,
  logger: Logger,
  metrics: VregMetrics,
): BlobStore {
  if (config.VREG_BLOB_MEMORY_CACHE_BYTES === 0) return store;
  const tier = new HotBlobTier(store, {
    budgetBytes: config.VREG_BLOB_MEMORY_CACHE_BYTES,
    maxBlobBytes: config.VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES,
    onLoadFailed: (digest, err) => {
      const { code, message } = err as { code?: string; message?: string };
      // Bytes that do not hash to their digest were corrupted at rest: an operator must hear of it.
      if (code === ErrorCodes.blobDigestMismatch)
        logger.error({ digest, err: message }, 'a stored blob does not hash to its digest: its storage is corrupt');
      else logger.warn({ digest, err: message }, 'a stored blob could not be loaded into the memory cache; it is read from the store');
    },
  });
  metrics.observeBlobMemoryCache(() => tier.heldBytes);
  return tier;
}
