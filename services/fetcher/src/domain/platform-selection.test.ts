import { MediaTypes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { type Descriptor, parseImageManifest } from './image-manifest.ts';
import { availablePlatforms, platformMatches, selectPlatformManifests } from './platform-selection.ts';

const d = (n: number, platform?: Descriptor['platform']): Descriptor => ({
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  ...(platform ? { platform } : {}),
});
const amd64 = d(1, { os: 'linux', architecture: 'amd64' });
const arm64 = d(2, { os: 'linux', architecture: 'arm64', variant: 'v8' });
const armv7 = d(3, { os: 'linux', architecture: 'arm' });
const attestation = d(4, { os: 'unknown', architecture: 'unknown' });
const index = [amd64, arm64, armv7, attestation];

describe('platform selection', () => {
  it('takes every entry for all', () => {
    expect(selectPlatformManifests(index, 'all')).toEqual(index);
  });

  it('takes only the entries of the listed platforms', () => {
    expect(selectPlatformManifests(index, ['linux/arm64/v8'])).toEqual([arm64]);
    expect(selectPlatformManifests(index, ['linux/amd64', 'linux/arm64'])).toEqual([amd64, arm64]);
  });

  it('matches variants the way containerd normalises them (arm64 is v8, arm is v7)', () => {
    expect(platformMatches('linux/arm64/v8', { os: 'linux', architecture: 'arm64' })).toBe(true);
    expect(platformMatches('linux/arm/v7', { os: 'linux', architecture: 'arm' })).toBe(true);
    expect(platformMatches('linux/arm/v6', { os: 'linux', architecture: 'arm' })).toBe(false);
    expect(platformMatches('linux/amd64', { os: 'windows', architecture: 'amd64' })).toBe(false);
    expect(platformMatches('linux/amd64', undefined)).toBe(false);
  });

  it('refuses a platform the index does not offer, listing the ones it does', () => {
    expect(() => selectPlatformManifests(index, ['linux/amd64', 'linux/s390x'])).toThrow(
      /platform linux\/s390x not in the index; available: linux\/amd64, linux\/arm64\/v8, linux\/arm/,
    );
    try {
      selectPlatformManifests(index, ['linux/ppc64le']);
    } catch (err) {
      expect((err as { code: string }).code).toBe('UNSUPPORTED');
    }
    expect(availablePlatforms(index)).toEqual(['linux/amd64', 'linux/arm64/v8', 'linux/arm']);
  });
});

describe('parseImageManifest', () => {
  it('reads an index and an image manifest, leaving foreign layers out', () => {
    const idx = parseImageManifest(
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ ...amd64, mediaType: MediaTypes.ociManifest }] }),
      ),
      MediaTypes.ociIndex,
    );
    expect(idx).toEqual({ kind: 'index', manifests: [{ ...amd64, mediaType: MediaTypes.ociManifest }] });
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d(6).digest, size: 9 };
    const img = parseImageManifest(
      Buffer.from(JSON.stringify({ schemaVersion: 2, config: d(5), layers: [d(7), foreign] })),
      MediaTypes.dockerManifest,
    );
    expect(img).toEqual({ kind: 'image', config: d(5), layers: [d(7)] });
  });

  it('refuses what is not a manifest it can warm', () => {
    expect(() => parseImageManifest(Buffer.from('nope'), MediaTypes.ociManifest)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID' }),
    );
    expect(() => parseImageManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'), MediaTypes.dockerManifestV1Signed)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED' }),
    );
    expect(() =>
      parseImageManifest(Buffer.from('{"schemaVersion":2,"config":{"digest":"md5:x","size":1},"layers":[]}'), MediaTypes.ociManifest),
    ).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
