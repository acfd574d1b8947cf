import { UnsupportedError, NameInvalidError, type ObjectRef } from '@vreg/contracts';
import { assertManifestReference, assertRepositoryName, parseDigest } from './reference-grammar.ts';

/** What a `/v2/virtual_registries/containers/<id>/<rest>` request asks for. */
export type PullTarget = ObjectRef & { referenceKind: 'tag' | 'digest' };

const REGISTRY_ID_RE = /^[1-9][0-9]{0,17}$/;

/** Throws NAME_INVALID unless `id` is a positive integer id. */
export function assertRegistryId(id: string): void {
  if (!REGISTRY_ID_RE.test(id)) throw new NameInvalidError('invalid virtual registry id', { registryId: id.slice(0, 40) });
}

/**
 * Parses the part after the registry id: `<image>/manifests/<ref>` or
 * `<image>/blobs/<digest>`. Upload and tag-list endpoints answer UNSUPPORTED:
 * a virtual registry is read-only. The image may have several components.
 */
export function parsePullPath(rest: string): PullTarget {
  if (rest.length > 1024) throw new NameInvalidError('request path too long');
  const uploads = rest.match(/^(.+)\/blobs\/uploads(\/.*)?$/);
  if (uploads) throw new UnsupportedError('a virtual registry is read-only: pushing is not supported');
  const m = rest.match(/^(.+)\/(manifests|blobs)\/([^/]+)$/);
  if (!m) {
    if (/\/tags\/list$/.test(rest) || /\/referrers\/[^/]+$/.test(rest)) {
      throw new UnsupportedError('this endpoint is not supported by the virtual registry yet');
    }
    throw new NameInvalidError('expected <name>/manifests/<reference> or <name>/blobs/<digest>');
  }
  const [, image, section, reference] = m as unknown as [string, string, string, string];
  assertRepositoryName(image);
  if (section === 'blobs') {
    parseDigest(reference);
    return { kind: 'blob', image, reference, referenceKind: 'digest' };
  }
  return { kind: 'manifest', image, reference, referenceKind: assertManifestReference(reference) };
}
