import { UnsupportedError, type WarmPlatforms } from '@vreg/contracts';
import type { Descriptor, Platform } from './image-manifest.ts';

/** `os/arch` or `os/arch/variant`. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

// containerd's normalisation: an arm64 without variant is v8, an arm without variant is v7.
function variantOf(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/**
 * Whether a descriptor's platform is the one asked for: same os and
 * architecture; a variant, when asked, must match (after normalisation, so
 * `linux/arm64/v8` matches an `arm64` without variant); none asked matches any.
 */
export function platformMatches(wanted: string, platform: Platform | undefined): boolean {
  if (platform === undefined) return false;
  const [os, architecture, variant] = wanted.split('/');
  if (platform.os !== os || platform.architecture !== architecture) return false;
  return variant === undefined || variantOf(platform) === variantOf({ os, architecture, variant });
}

/** The platforms an index offers (attestation entries, `unknown/unknown`, left out), each once. */
export function availablePlatforms(manifests: readonly Descriptor[]): string[] {
  const out = new Set<string>();
  for (const m of manifests) if (m.platform && m.platform.os !== 'unknown') out.add(formatPlatform(m.platform));
  return [...out];
}

/**
 * The index entries to warm: all of them, or those matching each asked
 * platform. Every asked platform must match at least one entry.
 * @throws UNSUPPORTED naming the missing platforms and the available ones.
 */
export function selectPlatformManifests(manifests: readonly Descriptor[], wanted: WarmPlatforms): Descriptor[] {
  if (wanted === 'all') return [...manifests];
  const missing = wanted.filter((w) => !manifests.some((m) => platformMatches(w, m.platform)));
  if (missing.length > 0) {
    const available = availablePlatforms(manifests);
    throw new UnsupportedError(
      `platform ${missing.join(', ')} not in the index; available: ${available.length > 0 ? available.join(', ') : 'none'}`,
      { missing, available },
    );
  }
  return manifests.filter((m) => wanted.some((w) => platformMatches(w, m.platform)));
}
