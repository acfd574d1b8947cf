import { describe, expect, it } from 'vitest';
import { parseRangeHeader, satisfyRange } from './byte-range.ts';

describe('parseRangeHeader', () => {
  it('reads bounded, open and suffix ranges', () => {
    expect(parseRangeHeader('bytes=0-99')).toEqual({ start: 0, end: 99 });
    expect(parseRangeHeader('bytes=100-')).toEqual({ start: 100 });
    expect(parseRangeHeader('bytes=-50')).toEqual({ suffix: 50 });
  });
  it('ignores absent headers, other units and multiple ranges', () => {
    expect(parseRangeHeader(undefined)).toBeUndefined();
    expect(parseRangeHeader('items=0-1')).toBeUndefined();
    expect(parseRangeHeader('bytes=0-1,5-6')).toBeUndefined();
  });
  it('refuses malformed byte ranges with RANGE_INVALID', () => {
    for (const bad of ['bytes=', 'bytes=-', 'bytes=5-1', 'bytes=a-b', 'bytes=1-2-3'])
      expect(() => parseRangeHeader(bad)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
  });
});

describe('satisfyRange', () => {
  it('clamps the end to the blob and resolves suffixes', () => {
    expect(satisfyRange({ start: 10, end: 1000 }, 100)).toEqual({ start: 10, end: 99, size: 100 });
    expect(satisfyRange({ suffix: 10 }, 100)).toEqual({ start: 90, end: 99, size: 100 });
    expect(satisfyRange({ start: 5 }, 100)).toEqual({ start: 5, end: 99, size: 100 });
  });
  it('answers RANGE_INVALID when the range starts past the end', () => {
    expect(() => satisfyRange({ start: 100 }, 100)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
    expect(() => satisfyRange({ suffix: 0 }, 100)).toThrow(expect.objectContaining({ code: 'RANGE_INVALID' }));
  });
});
