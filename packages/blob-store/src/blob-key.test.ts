import { describe, expect, it } from 'vitest';
import { blobKey, isValidDigest, parseDigest } from './blob-key.ts';
import { resolveRange } from './resolve-range.ts';

const SHA256 = `sha256:${'ab'.repeat(32)}`;
const SHA512 = `sha512:${'cd'.repeat(64)}`;

describe('blobKey', () => {
  it('places a sha256 blob under blobs/sha256/<2 hex>/<hex>', () => {
    expect(blobKey(SHA256)).toBe(`blobs/sha256/ab/${'ab'.repeat(32)}`);
  });

  it('places a sha512 blob under blobs/sha512/<2 hex>/<hex>', () => {
    expect(blobKey(SHA512)).toBe(`blobs/sha512/cd/${'cd'.repeat(64)}`);
  });

  it('throws DIGEST_INVALID for anything that is not a lowercase sha256/sha512 digest', () => {
    for (const bad of ['sha256:../../etc', SHA256.toUpperCase(), `${SHA256}/..`, `sha384:${'a'.repeat(96)}`]) {
      expect(() => blobKey(bad)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
      expect(isValidDigest(bad)).toBe(false);
    }
  });

  it('splits a digest into algorithm and hex', () => {
    expect(parseDigest(SHA512)).toEqual({ algorithm: 'sha512', hex: 'cd'.repeat(64) });
  });
});

describe('resolveRange', () => {
  it('clamps an end past the blob and fills in an open end', () => {
    expect(resolveRange({ start: 2, end: 99 }, 10)).toEqual({ start: 2, end: 9, length: 8 });
    expect(resolveRange({ start: 4 }, 10)).toEqual({ start: 4, end: 9, length: 6 });
  });

  it('throws RANGE_INVALID with the size for a start past the end, including on an empty blob', () => {
    expect(() => resolveRange({ start: 10 }, 10)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID', size: 10 }));
    expect(() => resolveRange({ start: 0 }, 0)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
    expect(() => resolveRange({ start: 1.5 }, 10)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
  });
});
