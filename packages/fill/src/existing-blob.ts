import { BlobUnknownError, type CacheEntryView, type RegistryView, relativePathOf } from '@vreg/contracts';
import type { FillDeps } from './fill-deps.ts';
import { publishStored } from './stored-publisher.ts';
import { firstUpstreamWith } from './upstream-chain.ts';
import { toUpstreamTarget } from './upstream-target.ts';

/**
 * The store already holds `digest` (cached through another registry or
 * image), but this registry has no entry for it. Storage is shared, access is
 * not: the blob is served only if one of this registry's own upstreams
 * confirms it has the blob (a HEAD, no download), and that upstream's entry
 * is then recorded.
 */
export async function recordExistingBlob(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  storedSize: number,
  signal?: AbortSignal,
): Promise<CacheEntryView> {
  const { upstream, value } = await firstUpstreamWith(
    registry.upstreams,
    (u) => deps.upstreams.headBlob(toUpstreamTarget(u, deps.secrets), image, digest, signal ? { signal } : {}),
    () => new BlobUnknownError('blob unknown to every upstream of this registry', { digest }),
  );
  const entry: CacheEntryView = {
    upstreamId: upstream.id,
    relativePath: relativePathOf({ kind: 'blob', image, reference: digest }),
    digest,
    contentType: value.contentType ?? 'application/octet-stream',
    size: storedSize,
    upstreamCheckedAt: new Date().toISOString(),
    ...(value.etag ? { upstreamEtag: value.etag } : {}),
  };
  await publishStored(deps.bus, registry.id, [entry], new Date());
  return entry;
}
