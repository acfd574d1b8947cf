/** Paths of the operational endpoints: never traced or logged per request (probes and scrapes every few seconds). */
export const OPS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A URL or path without its query string and fragment. Queries are where
 * presigned CDN URLs keep their signatures, so recorded URLs never have one.
 */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}
