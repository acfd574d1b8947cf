import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { seededImage } from './support/mirror-setup.ts';
import { PULL_CHECKS, runConformancePull } from './support/oci-conformance.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { type TestEnv, testEnv } from './support/test-env.ts';

/** An image the upstream holds, as the suite's read-only pull workflow needs it: a tag, its manifest and one blob. */
interface Content {
  label: string;
  name: string;
  tag: string;
}

/** One OCI image manifest, and one Docker schema 2 manifest: the Docker one is what the suite's OCI-only Accept used to break. */
const CONTENT: readonly Content[] = [
  { label: 'OCI image', name: 'library/busybox', tag: 'latest' },
  { label: 'Docker schema 2 image', name: 'library/bigimage', tag: 'v1' },
];

function contentOf(env: TestEnv, c: Content): { manifestDigest: string; blobDigest: string } {
  const image = seededImage(env, c.name, c.tag) as unknown as { digest: string; layers: Array<{ digest: string; size: number }> };
  // The smallest layer: blob-get downloads it whole.
  const blob = [...image.layers].sort((a, b) => a.size - b.size)[0];
  if (blob === undefined) throw new Error(`${c.name}:${c.tag} has no layer`);
  return { manifestDigest: image.digest, blobDigest: blob.digest };
}

/**
 * The OCI distribution-spec conformance suite (built from the Go module
 * proxy by scripts/test-env/build-conformance.sh) runs its pull workflow
 * against vreg, embedded and distributed, on the prefixed path and at the
 * root mirror path (a registry mirroring docker.io, the suite sending no
 * `ns`), each with an OCI image and a Docker schema 2 image upstream. The
 * suite asks for manifests with an Accept of the OCI index and manifest
 * types only. Every configuration starts cold (its own registry), so the
 * checks go through a fill first. Results come from junit.xml, not the exit
 * status; the summary line of each configuration is printed.
 */
describe.each([
  ['embedded', () => startEmbeddedUnderTest()],
  ['distributed', () => startDistributedUnderTest()],
] as const)('the OCI conformance suite’s pull workflow against %s vreg', (mode, start) => {
  const env = testEnv();
  const bin = process.env.VREG_TEST_OCI_CONFORMANCE;
  let vreg: VregUnderTest;
  const registries = new Map<string, string>();

  beforeAll(async () => {
    if (bin === undefined) throw new Error('VREG_TEST_OCI_CONFORMANCE is not set: run the suite with `npm test` (install.sh builds it)');
    vreg = await start();
    // Each path and image its own registry, so every run begins with a miss.
    for (const path of ['prefixed', 'root'] as const) {
      for (const c of CONTENT) {
        const { id } = await vreg.admin.createRegistry(`conformance-${path}-${c.name.replace('/', '-')}`);
        await vreg.admin.addUpstream(id, { name: 'registry-a', url: env.upstreamA });
        registries.set(`${path} ${c.label}`, id);
      }
    }
  });

  afterAll(async () => {
    await vreg?.stop();
  });

  for (const path of ['prefixed', 'root'] as const) {
    for (const c of CONTENT) {
      it(`passes every pull check on the ${path} path with an ${c.label} upstream`, async () => {
        const registryId = registries.get(`${path} ${c.label}`) as string;
        // At the root, this registry is the docker.io mirror for the run (a host belongs to one registry).
        if (path === 'root') {
          const mirrored = await vreg.admin.call('PUT', `/registries/${registryId}/mirror_hosts`, { hosts: ['docker.io'] });
          expect(mirrored.status, JSON.stringify(mirrored.body)).toBe(200);
        }
        try {
          const result = await runConformancePull({
            bin: bin as string,
            registryUrl: vreg.gatewayUrl,
            repository: path === 'root' ? c.name : `virtual_registries/containers/${registryId}/${c.name}`,
            tag: c.tag,
            ...contentOf(env, c),
          });
          console.info(`OCI conformance, ${mode} vreg, ${path} path, ${c.label}: ${result.summary}`);
          for (const [check, text] of result.failures) console.info(`  FAIL ${check}: ${text}`);
          expect(Object.fromEntries(PULL_CHECKS.map((check) => [check, result.statuses.get(check)]))).toEqual(
            Object.fromEntries(PULL_CHECKS.map((check) => [check, 'passed'])),
          );
        } finally {
          if (path === 'root') await vreg.admin.call('PUT', `/registries/${registryId}/mirror_hosts`, { hosts: [] });
        }
      });
    }
  }
});

/**
 * The answer chosen for a client whose Accept leaves out the only form a
 * manifest exists in, next to what distribution 2.8 (the upstream here)
 * answers the same request: vreg serves the manifest as stored, with its
 * real Content-Type and digest, by tag and by digest; distribution turns a
 * schema 2 manifest asked for by tag into signed schema 1 (another digest)
 * and refuses an OCI manifest with 404.
 */
describe('a manifest for a client whose Accept leaves out its only form', () => {
  const env = testEnv();
  let vreg: VregUnderTest;
  let base: string;
  const OCI_ONLY = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
  const DOCKER_ONLY = 'application/vnd.docker.distribution.manifest.v2+json';

  beforeAll(async () => {
    vreg = await startEmbeddedUnderTest();
    const { id } = await vreg.admin.createRegistry('negotiation');
    await vreg.admin.addUpstream(id, { name: 'registry-a', url: env.upstreamA });
    base = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}`;
  });
  afterAll(async () => vreg?.stop());

  const get = async (url: string, accept: string) => {
    const res = await fetch(url, { headers: { accept } });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      digest: res.headers.get('docker-content-digest'),
      body: await res.text(),
    };
  };

  it('serves a Docker schema 2 manifest to an OCI-only Accept by tag and digest, where distribution converts to schema 1', async () => {
    const { digest } = seededImage(env, 'library/bigimage', 'v1');
    const upstream = await get(`${env.upstreamA}/v2/library/bigimage/manifests/v1`, OCI_ONLY);
    expect(upstream).toMatchObject({ status: 200, type: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    expect(upstream.digest).not.toBe(digest);
    for (const ref of ['v1', digest]) {
      const served = await get(`${base}/library/bigimage/manifests/${ref}`, OCI_ONLY);
      expect(served, ref).toMatchObject({ status: 200, type: DOCKER_ONLY, digest });
    }
  });

  it('serves an OCI manifest to a Docker-only Accept by tag and digest, where distribution answers 404', async () => {
    const { digest } = seededImage(env, 'library/busybox', 'latest');
    expect((await get(`${env.upstreamA}/v2/library/busybox/manifests/latest`, DOCKER_ONLY)).status).toBe(404);
    for (const ref of ['latest', digest]) {
      const served = await get(`${base}/library/busybox/manifests/${ref}`, DOCKER_ONLY);
      expect(served, ref).toMatchObject({ status: 200, type: 'application/vnd.oci.image.manifest.v1+json', digest });
    }
  });
});
