import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Containerd, mirrorConfigHostsDir, startContainerd } from './support/containerd.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { type VregCli, vregCli } from './support/mirror-setup.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { Cosign, type PushedImage, pushIndex, pushLabelledImage } from './support/signed-images.ts';
import { hostOf } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

interface Denial {
  image: string;
  reference: string;
  kind: string;
  digest: string | null;
  mode: string;
  reason: string;
  client: string;
  count: number;
}

/**
 * containerd 1.6 (a daemon of this file's own) pulling through a registry
 * whose pull policy enforces cosign signatures, configured by the files
 * `vreg mirror-config containerd --no-fallback` writes, at the registry's
 * own path (`override_path`) and at the root path routed by containerd's
 * `?ns=docker.io`. Images are pushed to the test upstream and signed there
 * by real cosign, offline. A signed image is pulled and unpacked, its
 * digests the upstream's; an index signed as a whole (cosign's default)
 * passes with the platform manifest containerd asks for by digest; an
 * unsigned image and one signed by an untrusted key fail in ctr with vreg's
 * 403, and vreg records each refusal. With the default files (a fallback to
 * the upstream host), containerd goes around a refusal: that is what
 * `--no-fallback` is for.
 */
describe('containerd pulls through a registry that enforces signatures', () => {
  const env = testEnv();
  const prefix = `ctdpol${randomBytes(3).toString('hex')}`;
  const images = {} as Record<'signed' | 'unsigned' | 'evil' | 'multi', PushedImage>;
  const children: Array<PushedImage & { label: string; platform: { os: string; architecture: string } }> = [];
  let vreg: VregUnderTest;
  let ctd: Containerd;
  let registryId: string;
  let cli: VregCli;
  const dirs: string[] = [];
  const hostsDirs = { own: '', root: '' };

  beforeAll(async () => {
    const cosign = await Cosign.create();
    dirs.push(cosign.dir);
    const trusted = await cosign.generateKey('trusted');
    await cosign.generateKey('untrusted');
    const A = env.upstreamA;
    images.signed = await pushLabelledImage(A, `${prefix}/signed`, 'v1', `${prefix} signed`);
    images.unsigned = await pushLabelledImage(A, `${prefix}/unsigned`, 'v1', `${prefix} unsigned`);
    images.evil = await pushLabelledImage(A, `${prefix}/evil`, 'v1', `${prefix} evil`);
    for (const architecture of ['amd64', 'arm64']) {
      const label = `${prefix} multi ${architecture}`;
      const platform = { os: 'linux', architecture };
      children.push({ ...(await pushLabelledImage(A, `${prefix}/multi`, architecture, label, platform)), label, platform });
    }
    images.multi = await pushIndex(A, `${prefix}/multi`, 'v1', children);
    await cosign.sign('trusted', `${hostOf(A)}/${prefix}/signed@${images.signed.digest}`);
    await cosign.sign('untrusted', `${hostOf(A)}/${prefix}/evil@${images.evil.digest}`);
    // cosign's default: the index only, not its platform manifests.
    await cosign.sign('trusted', `${hostOf(A)}/${prefix}/multi@${images.multi.digest}`);

    vreg = await startEmbeddedUnderTest();
    registryId = (await vreg.admin.createRegistry(`hub-${prefix}`)).id;
    await vreg.admin.addUpstream(registryId, { name: 'registry-a', url: A });
    const policy = { default_action: 'allow', rules: [], signatures: { mode: 'enforce', keys: [{ name: 'release', pem: trusted }] } };
    expect((await vreg.admin.call('PUT', `/registries/${registryId}/pull_policy`, policy)).status).toBe(200);
    cli = vregCli(vreg);
    await cli(['registries', 'mirror-hosts', registryId, 'docker.io']);
    hostsDirs.own = await mirrorConfigHostsDir(cli, ['--registry', registryId, '--no-fallback']);
    hostsDirs.root = await mirrorConfigHostsDir(cli, ['--no-fallback']);
    dirs.push(hostsDirs.own, hostsDirs.root);
    ctd = await startContainerd();
  });

  afterAll(async () => {
    await ctd?.stop();
    await vreg?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const chainIdOf = (ctrOutput: string): string => {
    const id = /image chain ID: (sha256:[a-f0-9]{64})/.exec(ctrOutput)?.[1];
    if (id === undefined) throw new Error(`ctr printed no chain ID: ${ctrOutput}`);
    return id;
  };

  const reasonOf = { unsigned: 'unsigned', evil: 'untrusted' } as const;

  /**
   * How many refusals of `name` by `reference` (its tag, or its digest) vreg
   * has recorded; identical ones within a second are one record with a count.
   */
  const refusals = async (name: 'unsigned' | 'evil', reference = 'v1'): Promise<number> => {
    const res = await vreg.admin.call<Denial[]>('GET', `/registries/${registryId}/policy_denials?per_page=100`);
    expect(res.status).toBe(200);
    const records = res.body.filter((d) => d.image === `${prefix}/${name}`);
    for (const d of records)
      expect(d, JSON.stringify(d)).toMatchObject({
        kind: 'manifest',
        digest: images[name].digest,
        mode: 'enforce',
        reason: reasonOf[name],
        client: 'anonymous',
      });
    return records.filter((d) => d.reference === reference).reduce((n, d) => n + d.count, 0);
  };

  const waitForRefusal = (name: 'unsigned' | 'evil', before: number, reference = 'v1'): Promise<true> =>
    waitFor(`one more refusal of ${name} by ${reference} recorded`, async () =>
      (await refusals(name, reference)) > before ? true : undefined,
    );

  /** Pulls `name:v1` into an empty containerd, expecting vreg's refusal; resolves ctr's error once vreg recorded one more. */
  const refusedPull = async (name: 'unsigned' | 'evil', hostsDir: string): Promise<string> => {
    await ctd.clear();
    const before = await refusals(name);
    const failure = await ctd.pull(`docker.io/${prefix}/${name}:v1`, { hostsDir }).then(
      (out) => new Error(`ctr pulled ${name} through an enforce registry: ${out}`),
      (err: Error) => err,
    );
    expect(await ctd.contentDigests('default'), name).toEqual([]);
    await waitForRefusal(name, before);
    return failure.message;
  };

  for (const path of ['own', 'root'] as const) {
    const where = path === 'own' ? 'the registry’s own path (override_path)' : 'the root path (ns=docker.io)';

    it(`pulls and unpacks an image signed by a trusted key at ${where}, its digests the upstream’s`, async () => {
      await ctd.clear();
      const out = await ctd.pull(`docker.io/${prefix}/signed:v1`, { hostsDir: hostsDirs[path], printChainId: true });
      const expected = [images.signed.digest, ...images.signed.blobs].sort();
      expect(await ctd.contentDigests('default')).toEqual(expected);
      expect(await ctd.verifyContent('default')).toBe(expected.length);
      expect((await ctd.readUnpacked('default', chainIdOf(out), 'etc/vreg-label')).toString()).toBe(`${prefix} signed\n`);
    });

    it(`pulls an index signed as a whole at ${where}: each platform manifest passes through it`, async () => {
      for (const child of children) {
        await ctd.clear();
        const platform = `${child.platform.os}/${child.platform.architecture}`;
        const out = await ctd.pull(`docker.io/${prefix}/multi:v1`, { hostsDir: hostsDirs[path], platform, printChainId: true });
        const expected = [images.multi.digest, child.digest, ...child.blobs].sort();
        expect(await ctd.contentDigests('default'), platform).toEqual(expected);
        expect(await ctd.verifyContent('default')).toBe(expected.length);
        expect((await ctd.readUnpacked('default', chainIdOf(out), 'etc/vreg-label')).toString()).toBe(`${child.label}\n`);
      }
    });

    it(`refuses an unsigned image and one signed by an untrusted key at ${where}: ctr fails with vreg’s 403, and vreg records why`, async () => {
      for (const name of ['unsigned', 'evil'] as const) {
        // containerd resolves a tag with HEAD and reports the status alone: the reason is in vreg's record.
        expect(await refusedPull(name, hostsDirs[path])).toMatch(
          new RegExp(`pulling from host ${hostOf(vreg.gatewayUrl)} failed with status code .*: 403 Forbidden`),
        );
      }
    });
  }

  it('goes around a refusal to the upstream itself with the default files (their fallback), and not with --no-fallback', async () => {
    // The default files, their fallback the real upstream: what a node that can reach the upstream has.
    const withFallback = await mirrorConfigHostsDir(cli, [], { fallback: env.upstreamA });
    dirs.push(withFallback);
    await ctd.clear();
    const digest = images.unsigned.digest;
    const before = await refusals('unsigned', digest);
    await ctd.pull(`docker.io/${prefix}/unsigned:v1`, { hostsDir: withFallback });
    expect(await ctd.contentDigests('default')).toEqual([digest, ...images.unsigned.blobs].sort());
    // containerd asked vreg for the manifest by digest too, was refused, and took it from the next host.
    await waitForRefusal('unsigned', before, digest);
    expect(await refusedPull('unsigned', hostsDirs.root)).toMatch(/403 Forbidden/);
  });
});
