import { describe, expect, it } from 'vitest';
import { parseContentLength, parseRetryAfter, toUpstreamHead } from './upstream-head.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date, rounding up and never going negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('gives undefined for absent or malformed values', () => {
    for (const v of [undefined, '', '-5', '1.5', 'soon']) expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});

describe('toUpstreamHead', () => {
  it('picks the metadata, joins repeated headers and drops set-cookie', () => {
    const head = toUpstreamHead({
      'content-type': 'application/vnd.oci.image.index.v1+json',
      'content-length': '42',
      'docker-content-digest': 'sha256:abc',
      etag: '"sha256:abc"',
      'set-cookie': ['a=1', 'b=2'],
      'x-multi': ['one', 'two'],
    });
    expect(head).toEqual({
      contentType: 'application/vnd.oci.image.index.v1+json',
      contentLength: 42,
      dockerContentDigest: 'sha256:abc',
      etag: '"sha256:abc"',
      headers: {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'content-length': '42',
        'docker-content-digest': 'sha256:abc',
        etag: '"sha256:abc"',
        'x-multi': 'one, two',
      },
    });
  });

  it('ignores a malformed Content-Length', () => {
    expect(parseContentLength('12abc')).toBeUndefined();
    expect(parseContentLength('99999999999999999999')).toBeUndefined();
    expect(toUpstreamHead({}).contentLength).toBeUndefined();
  });
});
