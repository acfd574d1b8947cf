import { type CacheEntryView, ManifestUnknownError, type RegistryView, relativePathOf } from '@vreg/contracts';
import {
  acceptedManifestType,
  type FillDeps,
  fillManifest,
  firstUpstreamWith,
  publishStored,
  readBounded,
  toUpstreamTarget,
} from '@vreg/fill';
import { digestWithAlgorithmOf, isDigest, parseDigest } from '@vreg/oci';
import type { CatalogLookup } from '../ports/catalog-lookup.ts';
import type { ObjectOutcome } from './warm-progress.ts';

export interface ManifestWarmerDeps {
  fill: FillDeps;
  catalog: CatalogLookup;
}

/** A manifest a warm has made sure of: its bytes (to read its children), and the entries it recorded. */
export interface WarmedManifest {
  bytes: Buffer;
  digest: string;
  contentType: string;
  /** Relative paths recorded: the tag's (when warmed by tag) and the digest's. */
  paths: string[];
  outcome: ObjectOutcome;
}

/**
 * Makes sure a manifest (by tag or digest) is stored and recorded for the
 * registry. A digest this registry already has an entry for is read from
 * the store without asking anyone. Otherwise the upstream is asked with a
 * HEAD first (Docker Hub does not count HEADs against its pull limit): when
 * the store already holds the digest it names, the entries are recorded
 * without a download. Else the manifest is filled as a pull fills it.
 * A tag is always asked again: warming means "what the tag is now".
 */
export async function warmManifest(
  deps: ManifestWarmerDeps,
  registry: RegistryView,
  image: string,
  reference: string,
  signal: AbortSignal,
): Promise<WarmedManifest> {
  if (isDigest(reference)) {
    const entry = await deps.catalog.lookupEntry(registry.id, relativePathOf({ kind: 'manifest', image, reference }));
    const bytes = entry ? await storedBytes(deps.fill, reference) : undefined;
    if (entry && bytes) return { bytes, digest: reference, contentType: entry.contentType, paths: [entry.relativePath], outcome: 'cached' };
  }
  const recorded = await recordStoredManifest(deps.fill, registry, image, reference, signal);
  if (recorded) return recorded;
  const filled = await fillManifest(deps.fill, registry, image, reference, signal);
  return {
    bytes: filled.bytes,
    digest: filled.digest,
    contentType: filled.contentType,
    paths: filled.entries.map((e) => e.relativePath),
    outcome: 'downloaded',
  };
}

/** HEAD the reference; if the store holds the digest the upstream names, record it (tag and digest). Undefined when a GET is needed. */
async function recordStoredManifest(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  reference: string,
  signal: AbortSignal,
): Promise<WarmedManifest | undefined> {
  let found;
  try {
    found = await firstUpstreamWith(
      registry.upstreams,
      (u) => deps.upstreams.headManifest(toUpstreamTarget(u, deps.secrets), image, reference, { signal }),
      () => new ManifestUnknownError('manifest unknown to every upstream of this registry', { name: image, reference }),
    );
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined; // the GET that follows reports why, as a pull would
  }
  const { upstream, value: head } = found;
  const digest = isDigest(reference) ? reference : head.dockerContentDigest;
  if (digest === undefined || head.contentType === undefined || !isCheckable(digest)) return undefined;
  const bytes = await storedBytes(deps, digest);
  if (bytes === undefined) return undefined;
  let contentType: string;
  try {
    // The HEAD's type is the upstream's word only: the stored bytes must be a manifest of a manifest's type, as a fill checks.
    contentType = acceptedManifestType(head.contentType, bytes);
  } catch {
    return undefined; // the GET that follows refuses it, saying why
  }
  const base = {
    upstreamId: upstream.id,
    digest,
    contentType,
    size: bytes.length,
    upstreamCheckedAt: new Date().toISOString(),
    ...(head.etag ? { upstreamEtag: head.etag } : {}),
  };
  const entries: CacheEntryView[] = [{ ...base, relativePath: relativePathOf({ kind: 'manifest', image, reference: digest }) }];
  if (!isDigest(reference)) entries.unshift({ ...base, relativePath: relativePathOf({ kind: 'manifest', image, reference }) });
  await publishStored(deps.bus, registry.id, entries, new Date());
  return { bytes, digest, contentType, paths: entries.map((e) => e.relativePath), outcome: 'cached' };
}

/** The stored bytes of a manifest, verified against its digest; undefined when absent or wrong. */
async function storedBytes(deps: FillDeps, digest: string): Promise<Buffer | undefined> {
  const read = await deps.store.get(digest);
  if (read === undefined) return undefined;
  const bytes = await readBounded(read.body, deps.manifestMaxBytes);
  return digestWithAlgorithmOf(digest, bytes) === digest ? bytes : undefined;
}

function isCheckable(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}
