import { describe, expect, it } from 'vitest';
import { encodeKey, ttlHeader } from './nats-kv-fill-lease.ts';

describe('ttlHeader', () => {
  it('rounds up to whole seconds, at least one', () => {
    expect([1, 999, 1000, 1001, 30_000].map(ttlHeader)).toEqual(['1s', '1s', '1s', '2s', '30s']);
  });
});

describe('encodeKey', () => {
  it('maps any key to 64 hex characters, the same key to the same value', () => {
    const k = encodeKey('registry/library/alpine:latest @ sha256:abc*>');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(encodeKey('registry/library/alpine:latest @ sha256:abc*>')).toBe(k);
    expect(encodeKey('other')).not.toBe(k);
  });
});
