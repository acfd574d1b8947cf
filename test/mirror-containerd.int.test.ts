import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Containerd, mirrorConfigHostsDir, startContainerd } from './support/containerd.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { blobGets, expectedDigests, type MirrorSetup, objectRequests, PRIVATE_IMAGE, setUpMirrors } from './support/mirror-setup.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { testEnv } from './support/test-env.ts';

/** The files `vreg mirror-config containerd` wrote, with the fallback servers pointed nowhere. */
const hostsDir = (setup: MirrorSetup, args: readonly string[], stdin?: string): Promise<string> =>
  mirrorConfigHostsDir(setup.cli, args, stdin === undefined ? {} : { stdin });

/**
 * containerd 1.6 (Debian's package, a daemon of this file's own) pulling
 * through vreg with `ctr images pull --hosts-dir`, configured by the files
 * `vreg mirror-config containerd` writes: one registry's own path with
 * `override_path`, the root path where containerd's `?ns=<host>` picks the
 * registry, and a `_default` that covers a host with no file of its own,
 * for a private registry reached with containerd's own credentials. Every
 * pull is checked byte for byte against what the upstream holds, and a
 * second pull (after containerd forgot everything) costs the upstream no
 * request at all.
 */
describe('containerd pulls through vreg as its registry mirror', () => {
  const env = testEnv();
  let vreg: VregUnderTest;
  let setup: MirrorSetup;
  let ctd: Containerd;
  const dirs: string[] = [];

  beforeAll(async () => {
    vreg = await startEmbeddedUnderTest();
    setup = await setUpMirrors(vreg, env);
    ctd = await startContainerd();
  });

  afterAll(async () => {
    await ctd?.stop();
    await setup?.stop();
    await vreg?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** Pulls `ref` into a fresh containerd twice; the first pull goes upstream unless vreg `cached` it already, the second never. */
  async function pullTwice(
    ref: string,
    options: { hostsDir: string; user?: string; platform?: string },
    expected: string[],
    upstream = setup.hub,
    cached = false,
  ) {
    await ctd.clear();
    const before = objectRequests(upstream);
    await ctd.pull(ref, { ...options, namespace: 'first' });
    expect(await ctd.contentDigests('first')).toEqual(expected);
    expect(await ctd.verifyContent('first')).toBe(expected.length);
    if (cached) expect(objectRequests(upstream)).toBe(before);
    else expect(objectRequests(upstream)).toBeGreaterThan(before);
    // containerd forgets the image in every namespace and its content; vreg serves it all from its cache.
    await ctd.clear();
    const counted = { objects: objectRequests(upstream), blobs: blobGets(upstream) };
    await ctd.pull(ref, { ...options, namespace: 'second' });
    expect(await ctd.contentDigests('second')).toEqual(expected);
    expect(await ctd.verifyContent('second')).toBe(expected.length);
    expect({ objects: objectRequests(upstream), blobs: blobGets(upstream) }).toEqual(counted);
  }

  it('pulls a single-arch image through one registry’s own path with override_path', async () => {
    const dir = await hostsDir(setup, ['--registry', setup.hubId]);
    dirs.push(dir);
    expect(await readFile(join(dir, 'docker.io/hosts.toml'), 'utf8')).toContain(
      `[host."${vreg.gatewayUrl}/v2/virtual_registries/containers/${setup.hubId}"]\n  capabilities = ["pull", "resolve"]\n  override_path = true`,
    );
    const blobsBefore = blobGets(setup.hub);
    const expected = expectedDigests(env, 'library/busybox', 'latest');
    await pullTwice('docker.io/library/busybox:latest', { hostsDir: dir }, expected);
    // Config and layers downloaded from the upstream once each, whatever containerd asked twice.
    expect(blobGets(setup.hub) - blobsBefore).toBe(expected.length - 1);
  });

  it('pulls a multi-arch index at the root path, routed by containerd’s ns, for the default platform and arm64', async () => {
    const dir = await hostsDir(setup, []);
    dirs.push(dir);
    expect(await readFile(join(dir, 'docker.io/hosts.toml'), 'utf8')).toContain(`[host."${vreg.gatewayUrl}"]`);
    await pullTwice('docker.io/library/multiarch:latest', { hostsDir: dir }, expectedDigests(env, 'library/multiarch', 'latest', 'amd64'));
    await pullTwice(
      'docker.io/library/multiarch:latest',
      { hostsDir: dir, platform: 'linux/arm64' },
      expectedDigests(env, 'library/multiarch', 'latest', 'arm64'),
    );
  });

  describe('a private registry through _default (ns=ghcr.io), with containerd’s own credentials', () => {
    let dir: string;
    const ref = `ghcr.io/${PRIVATE_IMAGE.name}:${PRIVATE_IMAGE.tag}`;
    const expected = () => expectedDigests(env, 'team/app/api', '1.0');

    beforeAll(async () => {
      dir = await hostsDir(setup, []);
      dirs.push(dir);
      // Only _default: ghcr.io has no file of its own, so the pull must be routed by ns alone.
      await rm(join(dir, 'ghcr.io'), { recursive: true });
      await rm(join(dir, 'docker.io'), { recursive: true });
    });

    it('is refused without credentials (401), and nothing reaches the private upstream', async () => {
      await ctd.clear();
      const before = objectRequests(setup.privateUpstream);
      await expect(ctd.pull(ref, { hostsDir: dir })).rejects.toThrow(/401|unauthorized|authoriz/i);
      expect(objectRequests(setup.privateUpstream)).toBe(before);
    });

    it('pulls with an access token as ctr --user (the token exchange a pull secret makes), byte-identical, then from the cache', async () => {
      await pullTwice(ref, { hostsDir: dir, user: `node:${setup.pullToken}` }, expected(), setup.privateUpstream);
    });

    it('pulls with the token in hosts.toml as a Basic header (vreg mirror-config --pull-token-stdin)', async () => {
      const withHeader = await hostsDir(setup, ['--pull-token-stdin'], `${setup.pullToken}\n`);
      dirs.push(withHeader);
      await rm(join(withHeader, 'ghcr.io'), { recursive: true });
      expect(await readFile(join(withHeader, '_default/hosts.toml'), 'utf8')).toMatch(
        /\.header\]\n {4}Authorization = "Basic [A-Za-z0-9+/=]+"/,
      );
      // vreg holds the image since the pull above: nothing goes upstream, the header alone opens the registry.
      await pullTwice(ref, { hostsDir: withHeader }, expected(), setup.privateUpstream, true);
    });

    it('pulls with vreg as the only host (--no-fallback), the token a header of the server itself', async () => {
      const only = await hostsDir(setup, ['--no-fallback', '--pull-token-stdin'], `${setup.pullToken}\n`);
      dirs.push(only);
      await rm(join(only, 'ghcr.io'), { recursive: true });
      const toml = await readFile(join(only, '_default/hosts.toml'), 'utf8');
      expect(toml).toContain(`server = "${vreg.gatewayUrl}"`);
      expect(toml).toMatch(/^\[header\]\n {2}Authorization = "Basic [A-Za-z0-9+/=]+"$/m);
      expect(toml).not.toContain('[host.');
      await pullTwice(ref, { hostsDir: only }, expected(), setup.privateUpstream, true);
    });
  });
});
