import { describe, expect, it } from 'vitest';
import { isSchema1Manifest } from './media-types.ts';

describe('isSchema1Manifest', () => {
  const v1 = Buffer.from('{"schemaVersion":1,"name":"a","fsLayers":[]}');
  const v2 = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');

  it('knows schema 1 by its media types, signed or not, parameters and case aside', () => {
    expect(isSchema1Manifest('application/vnd.docker.distribution.manifest.v1+prettyjws', v2)).toBe(true);
    expect(isSchema1Manifest('Application/VND.docker.distribution.manifest.v1+json; charset=utf-8', v2)).toBe(true);
  });

  it('reads schemaVersion when the media type says nothing, and trusts every other type', () => {
    expect(isSchema1Manifest('application/json', v1)).toBe(true);
    expect(isSchema1Manifest(undefined, v1)).toBe(true);
    expect(isSchema1Manifest('application/json', v2)).toBe(false);
    expect(isSchema1Manifest(undefined, Buffer.from('not json'))).toBe(false);
    expect(isSchema1Manifest('application/vnd.oci.image.manifest.v1+json', v1)).toBe(false);
  });
});
