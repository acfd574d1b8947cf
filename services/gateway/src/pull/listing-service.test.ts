import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const registries = [
  { id: '1', name: 'one', visibility: 'public', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
] as RegistryView[];
const base = '/v2/virtual_registries/containers/1';
const D = `sha256:${'ab'.repeat(32)}`;

describe('tag lists and referrers', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it('passes a tag list through and serves it from cache inside the tag window', async () => {
    h = await gatewayHarness(registries);
    h.upstream.tags.set(`${UP}|library/x`, ['1.0', 'latest']);
    const first = await h.server.inject({ method: 'GET', url: `${base}/library/x/tags/list` });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ name: 'library/x', tags: ['1.0', 'latest'] });
    const second = await h.server.inject({ method: 'GET', url: `${base}/library/x/tags/list` });
    expect(second.headers['x-vreg-cache']).toBe('hit');
    expect(h.upstream.count('GET tags')).toBe(1);
  });

  it('answers NAME_UNKNOWN for a repository no upstream knows, and 400 for a bad n', async () => {
    h = await gatewayHarness(registries);
    expect((await h.server.inject({ method: 'GET', url: `${base}/library/none/tags/list` })).json().errors[0].code).toBe('NAME_UNKNOWN');
    expect((await h.server.inject({ method: 'GET', url: `${base}/library/x/tags/list?n=abc` })).statusCode).toBe(400);
  });

  it('answers referrers from the tag schema when the upstream has no referrers API, filtered by artifactType', async () => {
    h = await gatewayHarness(registries);
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${'1'.repeat(64)}`,
          size: 1,
          artifactType: 'application/vnd.example.sbom',
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${'2'.repeat(64)}`,
          size: 1,
          artifactType: 'application/vnd.example.sig',
        },
      ],
    };
    h.upstream.addManifest(UP, 'library/x', D.replace(':', '-'), Buffer.from(JSON.stringify(index)), OCI_INDEX);
    const all = await h.server.inject({ method: 'GET', url: `${base}/library/x/referrers/${D}` });
    expect(all.statusCode).toBe(200);
    expect(all.headers['content-type']).toBe(OCI_INDEX);
    expect(all.json().manifests).toHaveLength(2);
    const sbom = await h.server.inject({
      method: 'GET',
      url: `${base}/library/x/referrers/${D}?artifactType=application/vnd.example.sbom`,
    });
    expect(sbom.headers['oci-filters-applied']).toBe('artifactType');
    expect(sbom.json().manifests.map((m: { artifactType: string }) => m.artifactType)).toEqual(['application/vnd.example.sbom']);
  });

  it('answers an empty index for a digest without referrers', async () => {
    h = await gatewayHarness(registries);
    const res = await h.server.inject({ method: 'GET', url: `${base}/library/x/referrers/${D}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  });
});
