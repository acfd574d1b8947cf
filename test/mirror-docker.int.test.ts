import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Containerd, startContainerd } from './support/containerd.ts';
import { type Dockerd, startDockerd } from './support/dockerd.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { blobGets, type MirrorSetup, objectRequests, seededImage, setUpMirrors } from './support/mirror-setup.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { testEnv } from './support/test-env.ts';

/**
 * Docker (Debian's dockerd 20.10, a daemon of this file's own on a
 * containerd of its own) with vreg in `registry-mirrors`, as
 * `vreg mirror-config docker` prints it: dockerd pings `/v2/`, asks vreg's
 * token endpoint for `repository:library/<name>:pull` and pulls
 * `/v2/library/<name>/...` at the root, without `ns`, which vreg routes to
 * the registry mirroring docker.io. Short names, the index's platform
 * manifest by digest, the cache on a second pull, and a private mirror
 * opened by the Docker Hub credentials the CLI holds (what dockerd sends a
 * mirror) are all proven against the upstream's digests and request counts.
 */
describe('Docker pulls through vreg as its registry mirror', () => {
  const env = testEnv();
  let vreg: VregUnderTest;
  let setup: MirrorSetup;
  let ctd: Containerd;
  let dockerd: Dockerd;

  const repoDigest = async (image: string) =>
    (await dockerd.docker(['image', 'inspect', '--format', '{{index .RepoDigests 0}}', image])).trim();

  beforeAll(async () => {
    // Registry and mirror changes take effect at once (no gateway-side caching of them).
    vreg = await startEmbeddedUnderTest({ VREG_REGISTRY_CACHE_MS: '0' });
    setup = await setUpMirrors(vreg, env);
    const daemonJson = JSON.parse((await setup.cli(['mirror-config', 'docker', '--url', vreg.gatewayUrl, '--json'])).toString()) as {
      files: Array<{ content: string }>;
    };
    const daemon = JSON.parse(daemonJson.files[0]?.content ?? '{}') as { 'registry-mirrors': string[] };
    expect(daemon).toEqual({ 'registry-mirrors': [vreg.gatewayUrl] });
    ctd = await startContainerd();
    dockerd = await startDockerd(ctd, daemon);
  });

  afterAll(async () => {
    await dockerd?.stop();
    await ctd?.stop();
    await setup?.stop();
    await vreg?.stop();
  });

  it('pulls a short name and an index through the mirror with the upstream’s digests', async () => {
    const before = objectRequests(setup.hub);
    await dockerd.docker(['pull', '-q', 'busybox']);
    expect(await repoDigest('busybox')).toBe(`busybox@${seededImage(env, 'library/busybox', 'latest').digest}`);
    await dockerd.docker(['pull', '-q', 'docker.io/library/multiarch:latest']);
    expect(await repoDigest('multiarch')).toBe(`multiarch@${seededImage(env, 'library/multiarch', 'latest').digest}`);
    expect(objectRequests(setup.hub)).toBeGreaterThan(before);
    expect(await dockerd.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).toMatch(/^busybox:latest$/m);
  });

  it('pulls again from vreg’s cache: no upstream blob request', async () => {
    await dockerd.docker(['rmi', 'busybox', 'multiarch']);
    const blobs = blobGets(setup.hub);
    await dockerd.docker(['pull', '-q', 'busybox']);
    await dockerd.docker(['pull', '-q', 'multiarch']);
    expect(await repoDigest('busybox')).toBe(`busybox@${seededImage(env, 'library/busybox', 'latest').digest}`);
    expect(blobGets(setup.hub)).toBe(blobs);
  });

  it('pulls from a private docker.io mirror with the Docker Hub credentials the CLI holds, and not without', async () => {
    await dockerd.docker(['rmi', 'busybox']);
    expect((await vreg.admin.call('PATCH', `/registries/${setup.hubId}`, { visibility: 'private' })).status).toBe(200);
    const objects = objectRequests(setup.hub);
    // The mirror refuses, dockerd falls back to Docker Hub, which this test's dockerd cannot reach.
    await expect(dockerd.docker(['pull', '-q', 'busybox'])).rejects.toThrow(/registry-1\.docker\.io.*connection refused/);
    expect(dockerd.logTail()).toMatch(/Attempting next endpoint for pull after error: errors:\\n(denied|unauthorized)/);
    expect(objectRequests(setup.hub)).toBe(objects);
    const token = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', {
      name: 'docker-hosts',
      scopes: ['read_virtual_registry'],
      registry_ids: [setup.hubId],
    });
    // What `docker login` would store for Docker Hub: dockerd hands it to the mirror's token endpoint.
    await dockerd.setClientConfig({
      auths: { 'https://index.docker.io/v1/': { auth: Buffer.from(`node:${token.body.token}`).toString('base64') } },
    });
    await dockerd.docker(['pull', '-q', 'busybox']);
    expect(await repoDigest('busybox')).toBe(`busybox@${seededImage(env, 'library/busybox', 'latest').digest}`);
  });
});
