// Grammar from the OCI distribution spec ("Pulling manifests"): validated
// here so that a caller bug can never smuggle `..`, `?` or `#` into the
// URL we send upstream.
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

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
  if (image.length > 255 || !NAME.test(image)) throw new TypeError(`invalid repository name: ${JSON.stringify(image.slice(0, 300))}`);
  const valid = kind === 'blobs' ? DIGEST.test(reference) : DIGEST.test(reference) || TAG.test(reference);
  if (!valid) throw new TypeError(`invalid ${kind === 'blobs' ? 'digest' : 'reference'}: ${JSON.stringify(reference.slice(0, 300))}`);
  const prefix = base.pathname.replace(/\/+$/, ''); // `https://h/` and `https://h/p/` join cleanly
  return new URL(`${base.origin}${prefix}/v2/${image}/${kind}/${reference}`);
}

/** The bearer scope for pulling from `image`. */
export function pullScope(image: string): string {
  return `repository:${image}:pull`;
}
