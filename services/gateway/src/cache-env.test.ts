import { describe, expect, it } from 'vitest';
import { loadGatewayPullConfig } from './config.ts';

describe('in-memory cache settings', () => {
  it('defaults to 64 MiB of manifests', () => {
    expect(loadGatewayPullConfig({})).toMatchObject({ VREG_MANIFEST_CACHE_BYTES: 64 << 20 });
  });

  it('takes sizes up to their bound in GiB (4 GiB of manifests) and 0 for off', () => {
    expect(loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: String(4 * 1024 ** 3) })).toMatchObject({
      VREG_MANIFEST_CACHE_BYTES: 4 * 1024 ** 3,
    });
    expect(loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: '1000' })).toMatchObject({ VREG_MANIFEST_CACHE_BYTES: 1000 });
    expect(loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: '0' })).toMatchObject({ VREG_MANIFEST_CACHE_BYTES: 0 });
  });

  it('refuses a size past its bound, naming the setting', () => {
    expect(() => loadGatewayPullConfig({ VREG_MANIFEST_CACHE_BYTES: String(4 * 1024 ** 3 + 1) })).toThrow(/VREG_MANIFEST_CACHE_BYTES/);
  });
});
