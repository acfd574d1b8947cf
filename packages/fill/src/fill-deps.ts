import type { BlobStore } from '@vreg/blob-store';
import type { EventBus } from '@vreg/bus';
import type { Logger } from '@vreg/logging';
import type { SecretBox } from '@vreg/secrets';
import type { UpstreamRegistry } from '@vreg/upstream-client';

/** What a fill needs, in the gateway and in the fetcher alike. */
export interface FillDeps {
  store: BlobStore;
  upstreams: UpstreamRegistry;
  bus: EventBus;
  secrets: SecretBox;
  logger: Logger;
  /** Largest manifest accepted from an upstream, bytes (manifests are buffered, blobs never are). */
  manifestMaxBytes: number;
  /** Largest blob fetched from an upstream that sets no limit of its own, bytes; 0 or absent = no limit. */
  maxBlobBytes?: number;
}
