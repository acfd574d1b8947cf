import { isDigestGrammar, isRepositoryName, isTag } from '@vreg/oci';
// Names, tags and digests are checked against the OCI grammar (@vreg/oci) here
// too, so that a caller bug can never smuggle `..`, `?` or `#` into the URL we
// send upstream.

/** Which object collection of a repository a URL points into. */
export type ObjectKind = 'manifests' | 'blobs';

/**
 * Parses an upstream's base URL: http(s) only; user-info, query and
 * fragment dropped. A path prefix is kept (see {@link buildObjectUrl}).
 * @throws TypeError when the URL is malformed or not http(s)
 */
export function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not the input in the message: a mistyped URL may embed credentials.
    throw new TypeError('upstream url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`upstream url must be http(s), not ${url.protocol}`);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * `<base>/v2/<image>/<kind>/<reference>`.
 * @param reference a tag or digest for manifests, a digest for blobs
 * @throws TypeError when the image name or reference breaks the OCI grammar
 */
export function buildObjectUrl(base: URL, image: string, kind: ObjectKind, reference: string): URL {
  if (!isRepositoryName(image)) throw new TypeError(`invalid repository name: ${JSON.stringify(image.slice(0, 300))}`);
  const valid = kind === 'blobs' ? isDigestGrammar(reference) : isDigestGrammar(reference) || isTag(reference);
  if (!valid) throw new TypeError(`invalid ${kind === 'blobs' ? 'digest' : 'reference'}: ${JSON.stringify(reference.slice(0, 300))}`);
  const prefix = base.pathname.replace(/\/+$/, ''); // `https://h/` and `https://h/p/` join cleanly
  return new URL(`${base.origin}${prefix}/v2/${image}/${kind}/${reference}`);
}

/** `<base>/v2/`: the API version check every registry answers. */
export function buildPingUrl(base: URL): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${base.origin}${prefix}/v2/`);
}

/** The bearer scope for pulling from `image`. */
export function pullScope(image: string): string {
  return `repository:${image}:pull`;
}

/**
 * `<base>/v2/<image>/tags/list?n=&last=` or `<base>/v2/<image>/referrers/<digest>?artifactType=`.
 * @throws TypeError when the name, digest or a query value is invalid
 */
export function buildListingUrl(
  base: URL,
  image: string,
  listing: { kind: 'tags'; n?: number; last?: string } | { kind: 'referrers'; digest: string; artifactType?: string },
): URL {
  if (!isRepositoryName(image)) throw new TypeError(`invalid repository name: ${JSON.stringify(image.slice(0, 300))}`);
  const prefix = base.pathname.replace(/\/+$/, '');
  if (listing.kind === 'tags') {
    const url = new URL(`${base.origin}${prefix}/v2/${image}/tags/list`);
    if (listing.n !== undefined) {
      if (!Number.isSafeInteger(listing.n) || listing.n < 0) throw new TypeError('invalid n');
      url.searchParams.set('n', String(listing.n));
    }
    if (listing.last !== undefined) {
      if (!isTag(listing.last)) throw new TypeError('invalid last');
      url.searchParams.set('last', listing.last);
    }
    return url;
  }
  if (!isDigestGrammar(listing.digest)) throw new TypeError(`invalid digest: ${JSON.stringify(listing.digest.slice(0, 300))}`);
  const url = new URL(`${base.origin}${prefix}/v2/${image}/referrers/${listing.digest}`);
  if (listing.artifactType !== undefined) url.searchParams.set('artifactType', listing.artifactType);
  return url;
}

/** The repository name to ask the upstream for: `library/<name>` for one-component names when the upstream wants it. */
export function upstreamImageName(image: string, libraryPrefix: boolean | undefined): string {
  return libraryPrefix === true && !image.includes('/') ? `library/${image}` : image;
}
