import type { CacheEntryView, UpstreamView } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { isTagEntryFresh } from './tag-freshness.ts';

const upstream = (hours: number): UpstreamView => ({ id: '1', name: 'u', url: 'http://x', position: 0, cacheValidityHours: hours });
const entry = (checkedAt: string): CacheEntryView => ({
  upstreamId: '1',
  relativePath: 'a/manifests/latest',
  digest: `sha256:${'a'.repeat(64)}`,
  contentType: 'x',
  size: 1,
  upstreamCheckedAt: checkedAt,
});

describe('isTagEntryFresh', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  it('serves a tag checked within the validity window', () => {
    expect(isTagEntryFresh(entry('2026-01-01T12:00:00Z'), upstream(24), now)).toBe(true);
  });
  it('revalidates a tag checked before the window', () => {
    expect(isTagEntryFresh(entry('2025-12-31T23:00:00Z'), upstream(24), now)).toBe(false);
  });
  it('never revalidates when the validity is 0', () => {
    expect(isTagEntryFresh(entry('2000-01-01T00:00:00Z'), upstream(0), now)).toBe(true);
  });
});
