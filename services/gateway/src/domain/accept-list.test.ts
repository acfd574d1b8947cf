import { describe, expect, it } from 'vitest';
import { accepts, parseAccept } from './accept-list.ts';

describe('parseAccept', () => {
  it('reads comma-joined and repeated headers, dropping parameters', () => {
    expect(parseAccept(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json; q=0.9'])).toEqual(
      ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'],
    );
  });
  it('treats a missing header or a wildcard as anything', () => {
    expect(parseAccept(undefined)).toBeUndefined();
    expect(parseAccept('application/json, */*')).toBeUndefined();
    expect(accepts(undefined, 'x/y')).toBe(true);
  });
  it('refuses a media type the client did not list', () => {
    expect(accepts(['application/vnd.docker.distribution.manifest.v2+json'], 'application/vnd.oci.image.index.v1+json')).toBe(false);
  });
});
