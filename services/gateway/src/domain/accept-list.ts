/**
 * The manifest media types a client accepts, from its Accept header(s).
 * `undefined` means anything: no header, or a wildcard.
 */
export function parseAccept(header: string | string[] | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  const types = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .filter((t) => t.length > 0);
  if (types.length === 0 || types.some((t) => t === '*/*' || t === 'application/*')) return undefined;
  return [...new Set(types)];
}

/** Whether a client accepting `accept` can parse a manifest of `mediaType`. */
export function accepts(accept: readonly string[] | undefined, mediaType: string): boolean {
  if (accept === undefined) return true;
  return accept.includes(mediaType.split(';')[0]!.trim().toLowerCase());
}
