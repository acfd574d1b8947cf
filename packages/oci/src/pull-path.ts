import { NameInvalidError, type ObjectRef, UnsupportedError } from '@vreg/contracts';
import { assertManifestReference, assertRepositoryName, parseDigest } from './reference-grammar.ts';

/** A manifest or blob a `/v2/virtual_registries/containers/<id>/<rest>` request asks for. */
export type ObjectTarget = ObjectRef & { referenceKind: 'tag' | 'digest' };

/** A repository's tag list or the referrers of a manifest. */
export type ListingTarget = { kind: 'tags'; image: string } | { kind: 'referrers'; image: string; digest: string };

/** What a `/v2/virtual_registries/containers/<id>/<rest>` request asks for. */
export type PullTarget = ObjectTarget | ListingTarget;

const REGISTRY_ID_RE = /^[1-9][0-9]{0,17}$/;

/** Throws NAME_INVALID unless `id` is a positive integer id. */
export function assertRegistryId(id: string): void {
  if (!REGISTRY_ID_RE.test(id)) throw new NameInvalidError('invalid virtual registry id', { registryId: id.slice(0, 40) });
}

/**
 * Parses the part after the registry id: `<image>/manifests/<ref>` or
 * `<image>/blobs/<digest>`, `<image>/tags/list`, `<image>/referrers/<digest>`.
 * Upload endpoints answer UNSUPPORTED: a virtual registry is read-only. The image may have several components.
 */
export function parsePullPath(rest: string): PullTarget {
  if (rest.length > 1024) throw new NameInvalidError('request path too long');
  const uploads = rest.match(/^(.+)\/blobs\/uploads(\/.*)?$/);
  if (uploads) throw new UnsupportedError('a virtual registry is read-only: pushing is not supported');
  const tags = rest.match(/^(.+)\/tags\/list$/);
  if (tags) {
    assertRepositoryName(tags[1]!);
    return { kind: 'tags', image: tags[1]! };
  }
  const referrers = rest.match(/^(.+)\/referrers\/([^/]+)$/);
  if (referrers) {
    assertRepositoryName(referrers[1]!);
    parseDigest(referrers[2]!);
    return { kind: 'referrers', image: referrers[1]!, digest: referrers[2]! };
  }
  const m = rest.match(/^(.+)\/(manifests|blobs)\/([^/]+)$/);
  if (!m)
    throw new NameInvalidError(
      'expected <name>/manifests/<reference>, <name>/blobs/<digest>, <name>/tags/list or <name>/referrers/<digest>',
    );
  const [, image, section, reference] = m as unknown as [string, string, string, string];
  assertRepositoryName(image);
  if (section === 'blobs') {
    parseDigest(reference);
    return { kind: 'blob', image, reference, referenceKind: 'digest' };
  }
  return { kind: 'manifest', image, reference, referenceKind: assertManifestReference(reference) };
}
