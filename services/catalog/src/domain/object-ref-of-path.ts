import type { ObjectRef } from '@vreg/contracts';

/**
 * The object a cache entry's relative path names: the inverse of
 * `relativePathOf` (`<image>/manifests/<reference>` or
 * `<image>/blobs/<digest>`); undefined for anything else. The image may hold
 * slashes; the reference never does.
 */
export function objectRefOfPath(relativePath: string): ObjectRef | undefined {
  const match = /^(.+)\/(manifests|blobs)\/([^/]+)$/.exec(relativePath);
  if (match === null) return undefined;
  const [, image, kind, reference] = match as unknown as [string, string, string, string];
  return { kind: kind === 'manifests' ? 'manifest' : 'blob', image, reference };
}
