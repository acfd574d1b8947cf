import { ValidationError } from '@vreg/contracts';
import { UPSTREAM_URL_MAX } from './upstream.ts';

/**
 * Checks an upstream base URL and returns its canonical form (no trailing
 * slash). Throws `ValidationError` when it is not http(s), carries
 * credentials (`user:pass@`: they belong in `username`/`password`, which are
 * sealed at rest, never in a URL that is shown and logged), a query or a
 * fragment.
 */
export function normalizeUpstreamUrl(raw: string): string {
  if (raw.length > UPSTREAM_URL_MAX) throw new ValidationError(`url is longer than ${UPSTREAM_URL_MAX} characters`, { field: 'url' });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('url is not a valid URL', { field: 'url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError('url must use http or https', { field: 'url' });
  }
  // `new URL('https://@host')` parses to empty credentials, so look at the raw
  // authority too: any `@` before the path means userinfo was given.
  const authority = raw.slice(raw.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw new ValidationError('url must not contain credentials; use username and password', { field: 'url' });
  }
  if (url.search !== '' || raw.includes('?')) throw new ValidationError('url must not have a query', { field: 'url' });
  if (url.hash !== '' || raw.includes('#')) throw new ValidationError('url must not have a fragment', { field: 'url' });
  return url.href.replace(/\/+$/, '');
}
