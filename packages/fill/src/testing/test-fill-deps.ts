import { randomBytes } from 'node:crypto';
import { type BlobStore, MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { Streams } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import type { FillDeps } from '../fill-deps.ts';

/**
 * A fill's dependencies for unit tests: `upstreams`, a memory bus with its
 * streams, a fresh secret box, a silent logger and a memory store, each
 * replaced by what `extra` gives.
 */
export async function testFillDeps<S extends BlobStore = MemoryBlobStore>(
  upstreams: UpstreamRegistry,
  extra: Partial<Omit<FillDeps, 'store'>> & { store?: S } = {},
): Promise<FillDeps & { store: S }> {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const bus = new MemoryEventBus({ logger });
  await bus.ensureStreams(Object.values(Streams));
  return {
    upstreams,
    bus,
    secrets: new SecretBox(randomBytes(32)),
    logger,
    manifestMaxBytes: 1 << 20,
    ...extra,
    store: extra.store ?? (new MemoryBlobStore() as BlobStore as S),
  };
}
