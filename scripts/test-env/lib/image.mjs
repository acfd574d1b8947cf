// Builds OCI / Docker schema2 images in memory and writes OCI image layouts.
// Everything is a pure function of its inputs, so digests are reproducible.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tar } from './tar.mjs';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

const CREATED = '2024-01-01T00:00:00Z';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const sha256 = (buf) => `sha256:${createHash('sha256').update(buf).digest('hex')}`;

/**
 * Deterministic pseudo-random bytes: the AES-256-CTR keystream under a key
 * derived from `label`. Incompressible, and ~1 GB/s.
 */
export function pseudoRandomBytes(label, length) {
  const key = createHash('sha256').update(`vreg-test-seed:${label}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.alloc(length, 0)), cipher.final()]);
}

/** A blob: bytes plus the descriptor fields that point at it. */
function blob(mediaType, bytes) {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

const json = (value) => Buffer.from(JSON.stringify(value, null, 2) + '\n');
const descriptor = ({ mediaType, digest, size }) => ({ mediaType, digest, size });

/**
 * One single-platform image.
 * @param {object} spec
 * @param {'oci' | 'docker'} [spec.format] manifest/config/layer media types
 * @param {{ entries: import('./tar.mjs').TarEntry[], level?: number, comment?: string }[]} spec.layers
 * @param {{ os: string, architecture: string, variant?: string }} spec.platform
 * @param {object} [spec.config] the image config's "config" member (Entrypoint, Env, ...)
 */
export function buildImage({ format = 'oci', layers, platform, config = {} }) {
  const types =
    format === 'docker'
      ? { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: MediaType.dockerLayerGzip }
      : { manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: MediaType.ociLayerGzip };

  const layerBlobs = layers.map(({ entries, level = 6 }) => {
    const raw = tar(entries);
    // gzip header mtime is 0 and the zlib level fixed: same input, same bytes.
    const b = blob(types.layer, gzipSync(raw, { level }));
    return { ...b, diffId: sha256(raw), uncompressedSize: raw.length };
  });

  const configBlob = blob(
    types.config,
    json({
      created: CREATED,
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      config: { Env: [DEFAULT_PATH], ...config },
      rootfs: { type: 'layers', diff_ids: layerBlobs.map((l) => l.diffId) },
      history: layers.map((l, i) => ({ created: CREATED, created_by: l.comment ?? `vreg test seed layer ${i}` })),
    }),
  );

  const manifest = blob(
    types.manifest,
    json({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: descriptor(configBlob),
      layers: layerBlobs.map(descriptor),
    }),
  );

  return { kind: 'image', platform, manifest, config: configBlob, layers: layerBlobs };
}

/** An OCI image index over images built by buildImage. */
export function buildIndex(images) {
  const manifest = blob(
    MediaType.ociIndex,
    json({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: images.map((img) => ({ ...descriptor(img.manifest), platform: img.platform })),
    }),
  );
  return { kind: 'index', manifest, images };
}

/** Every blob an image or index needs, manifests included. */
export function allBlobs(artifact) {
  if (artifact.kind === 'index') return [artifact.manifest, ...artifact.images.flatMap(allBlobs)];
  return [artifact.manifest, artifact.config, ...artifact.layers];
}

/** Writes an OCI image layout holding `artifact` under the tag `tag`. */
export function writeLayout(dir, artifact, tag) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const b of allBlobs(artifact)) {
    writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice('sha256:'.length)), b.bytes);
  }
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...descriptor(artifact.manifest), annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
}

/**
 * Writes a single image in skopeo's `dir:` transport format. skopeo's `oci:`
 * transport only resolves tags whose descriptor has an OCI media type, so a
 * Docker schema2 image cannot be pushed byte-for-byte from an OCI layout;
 * `dir:` keeps the manifest bytes (and so the digest) exactly.
 */
export function writeDirLayout(dir, image) {
  if (image.kind !== 'image') throw new Error('writeDirLayout: single images only');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'version'), 'Directory Transport Version: 1.1\n');
  writeFileSync(join(dir, 'manifest.json'), image.manifest.bytes);
  for (const b of [image.config, ...image.layers]) {
    writeFileSync(join(dir, b.digest.slice('sha256:'.length)), b.bytes);
  }
}

/** The seeded.json record of an artifact: descriptors, no bytes. */
export function describe(artifact) {
  const base = descriptor(artifact.manifest);
  if (artifact.kind === 'index') {
    return { ...base, manifests: artifact.images.map(describe) };
  }
  return {
    ...base,
    platform: artifact.platform,
    config: descriptor(artifact.config),
    layers: artifact.layers.map((l) => ({ ...descriptor(l), diffId: l.diffId, uncompressedSize: l.uncompressedSize })),
  };
}
