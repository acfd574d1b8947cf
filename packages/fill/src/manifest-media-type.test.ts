import { describe, expect, it } from 'vitest';
import { acceptedManifestType } from './manifest-media-type.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const manifest = json({ schemaVersion: 2, mediaType: OCI, config: {}, layers: [] });

describe('acceptedManifestType', () => {
  it('accepts the OCI and Docker manifest and index types, without their parameters', () => {
    for (const type of [
      OCI,
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ])
      expect(acceptedManifestType(`${type.toUpperCase()}; charset=utf-8`, json({ schemaVersion: 2 }))).toBe(type);
  });

  it('accepts an OCI 1.1 artifact: an image manifest with an artifactType', () => {
    const artifact = json({ schemaVersion: 2, mediaType: OCI, artifactType: 'application/vnd.example.sbom', config: {}, layers: [] });
    expect(acceptedManifestType(OCI, artifact)).toBe(OCI);
  });

  it('takes the body’s mediaType when the upstream sent no type or only application/json', () => {
    expect(acceptedManifestType(undefined, manifest)).toBe(OCI);
    expect(acceptedManifestType('application/json', manifest)).toBe(OCI);
    expect(() => acceptedManifestType('application/json', json({ schemaVersion: 2, mediaType: 'text/html' }))).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID' }),
    );
    expect(() => acceptedManifestType(undefined, json({ schemaVersion: 2 }))).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID' }),
    );
  });

  it('refuses any other type, whatever the body says, and any body that is not a JSON object', () => {
    for (const type of [
      'text/html',
      'text/html; charset=utf-8',
      'image/svg+xml',
      'application/xhtml+xml',
      'text/plain',
      'application/octet-stream',
    ])
      expect(() => acceptedManifestType(type, manifest), type).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
    for (const body of ['<html><script>alert(1)</script></html>', '[1,2]', '"x"', 'null', ''])
      expect(() => acceptedManifestType(OCI, Buffer.from(body)), body).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
