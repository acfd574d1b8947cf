import { describe, expect, it } from 'vitest';
import { loadGatewayPullConfig } from './config.ts';

describe('in-memory cache settings', () => {
  it('defaults to 64 MiB of manifests and 256 MiB of blobs, 64 MiB per blob at most', () => {
    expect(loadGatewayPullConfig({})).toMatchObject({
      VREG_MANIFEST_CACHE_BYTES: 64 << 20,
      VREG_BLOB_MEMORY_CACHE_BYTES: 256 << 20,
      VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES: 64 << 20,
    });
  });

  it('takes sizes up to their bounds in GiB (4 GiB of manifests, 64 GiB of blobs) and 0 for off', () => {
    const config = loadGatewayPullConfig({
      VREG_MANIFEST_CACHE_BYTES: String(4 * 1024 ** 3),
      VREG_BLOB_MEMORY_CACHE_BYTES: String(64 * 1024 ** 3),
      VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES: '1000',
    });
    expect(config).toMatchObject({ VREG_MANIFEST_CACHE_BYTES: 4 * 1024 ** 3, VREG_BLOB_MEMORY_CACHE_BYTES: 64 * 1024 ** 3 });
    expect(loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: '0', VREG_BLOB_MEMORY_CACHE_BYTES: '0' })).toMatchObject({
      VREG_MANIFEST_CACHE_BYTES: 0,
      VREG_BLOB_MEMORY_CACHE_BYTES: 0,
    });
  });

  it('refuses a size past its bound or below it, naming the setting', () => {
    expect(() => loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: String(4 * 1024 ** 3 + 1) })).toThrow(/VREG_MANIFEST_CACHE_BYTES/);
    expect(() => loadGatewayPullConfig({ VREG_BLOB_MEMORY_CACHE_BYTES: '-1' })).toThrow(/VREG_BLOB_MEMORY_CACHE_BYTES/);
    expect(() => loadGatewayPullConfig({ VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES: '0' })).toThrow(/VREG_BLOB_MEMORY_CACHE_MAX_BLOB_BYTES/);
  });
});
