import type { CacheEntryView, UpstreamView } from '@vreg/contracts';

/**
 * Whether a tag entry may be served without asking its upstream again.
 * Digest entries are immutable and always fresh; `cache_validity_hours` 0
 * means never revalidate (GitLab's meaning).
 */
export function isTagEntryFresh(entry: CacheEntryView, upstream: UpstreamView | undefined, now: Date): boolean {
  if (upstream === undefined) return true;
  if (upstream.cacheValidityHours === 0) return true;
  const checkedAt = Date.parse(entry.upstreamCheckedAt);
  if (Number.isNaN(checkedAt)) return false;
  return now.getTime() - checkedAt < upstream.cacheValidityHours * 3_600_000;
}
