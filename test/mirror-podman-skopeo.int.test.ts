import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { blobGets, type MirrorSetup, objectRequests, PRIVATE_IMAGE, seededImage, setUpMirrors } from './support/mirror-setup.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { hostOf } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';

const run = promisify(execFile);
const sh = async (cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> => {
  try {
    return (await run(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, ...env } })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
};

/**
 * The registries the mirrors stand in front of, as registries.conf names
 * them, pointed at a closed local port: the pull must come from the mirror,
 * never from the internet (nor wait on it).
 */
const NOWHERE = '127.0.0.1:9';

/**
 * podman 4.3 and skopeo 1.9 (containers/image) pull through vreg configured
 * by `vreg mirror-config podman`: `[[registry]]` entries whose mirror is
 * each registry's own path (podman sends no `ns`). A short name resolves to
 * docker.io and a `docker.io/...` name goes the same way; the root path
 * works for docker.io too (no `ns` means docker.io); a private registry
 * takes an access token from an auth file entry for the mirror's address
 * (containers/image never sends the primary registry's credentials to a mirror).
 */
describe('podman and skopeo pull through vreg as a registries.conf mirror', () => {
  const env = testEnv();
  let vreg: VregUnderTest;
  let setup: MirrorSetup;
  let work: string;
  let conf: string;

  /** podman with its own vfs storage (no daemon, no mounts) and the given registries.conf. */
  const podman = (registriesConf: string, args: string[]) =>
    sh(
      'podman',
      [
        '--storage-driver=vfs',
        '--root',
        join(work, 'podman', 'root'),
        '--runroot',
        join(work, 'podman', 'run'),
        '--tmpdir',
        join(work, 'podman', 'tmp'),
        '--cgroup-manager=cgroupfs',
        '--events-backend=file',
        ...args,
      ],
      { CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: tmpdir() },
    );
  const digestOf = async (registriesConf: string, ref: string) =>
    (await podman(registriesConf, ['image', 'inspect', '--format', '{{.Digest}}', ref])).trim();

  beforeAll(async () => {
    vreg = await startEmbeddedUnderTest();
    setup = await setUpMirrors(vreg, env);
    work = await mkdtemp(join(tmpdir(), 'vreg-podman-mirror-'));
    const snippet = await setup.cli(['mirror-config', 'podman', '--url', vreg.gatewayUrl]);
    expect(snippet).toContain(`location = "${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${setup.hubId}"`);
    conf = join(work, 'registries.conf');
    // Top-level keys first (TOML), then the snippet as printed, its primary registries pointed nowhere.
    await writeFile(
      conf,
      `unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n\n${snippet.replace(/^location = "(docker\.io|ghcr\.io)"$/gm, `location = "${NOWHERE}"`)}\n`,
    );
  });

  afterAll(async () => {
    await setup?.stop();
    await vreg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('skopeo copies a short name and a docker.io name through the mirror, byte-identical', async () => {
    const before = objectRequests(setup.hub);
    for (const [ref, name] of [
      ['busybox:latest', 'library/busybox'],
      ['docker.io/library/multiarch:latest', 'library/multiarch'],
    ] as const) {
      const dir = join(work, `skopeo-${name.replace('/', '-')}`);
      await sh('skopeo', ['--registries-conf', conf, 'copy', '--retry-times=0', `docker://${ref}`, `dir:${dir}`]);
      const manifest = await readFile(join(dir, 'manifest.json'));
      const upstream = await (await fetch(`${env.upstreamA}/v2/${name}/manifests/latest`, { headers: { accept: ACCEPT } })).arrayBuffer();
      // For an index, dir: keeps the platform's manifest; its bytes are the upstream's child manifest.
      const seeded = seededImage(env, name, 'latest');
      if (name === 'library/busybox') expect(manifest.equals(Buffer.from(upstream))).toBe(true);
      else
        expect((seeded as unknown as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest)).toContain(sha256(manifest));
    }
    expect(objectRequests(setup.hub)).toBeGreaterThan(before);
  });

  it('podman pulls a short name and a docker.io name through the mirror with the upstream’s digests, the second time from the cache', async () => {
    const busybox = seededImage(env, 'library/busybox', 'latest');
    const multiarch = seededImage(env, 'library/multiarch', 'latest');
    await podman(conf, ['pull', '-q', 'busybox']);
    expect(await digestOf(conf, 'docker.io/library/busybox:latest')).toBe(busybox.digest);
    await podman(conf, ['pull', '-q', 'docker.io/library/multiarch:latest']);
    expect(await digestOf(conf, 'docker.io/library/multiarch:latest')).toBe(multiarch.digest);
    await podman(conf, ['rmi', '-a', '-f']);
    const blobs = blobGets(setup.hub);
    await podman(conf, ['pull', '-q', 'busybox']);
    expect(await digestOf(conf, 'docker.io/library/busybox:latest')).toBe(busybox.digest);
    expect(blobGets(setup.hub)).toBe(blobs);
  });

  it('podman pulls docker.io through vreg’s root path as the mirror location, which routes a pull without ns to the docker.io mirror', async () => {
    const root = join(work, 'registries-root.conf');
    await writeFile(
      root,
      [
        'unqualified-search-registries = ["docker.io"]',
        'short-name-mode = "permissive"',
        '[[registry]]',
        'prefix = "docker.io"',
        `location = "${NOWHERE}"`,
        '[[registry.mirror]]',
        `location = "${hostOf(vreg.gatewayUrl)}"`,
        'insecure = true',
        '',
      ].join('\n'),
    );
    await podman(root, ['rmi', '-a', '-f']);
    await podman(root, ['pull', '-q', 'docker.io/library/busybox']);
    expect(await digestOf(root, 'docker.io/library/busybox:latest')).toBe(seededImage(env, 'library/busybox', 'latest').digest);
  });

  it('podman pulls a private registry’s image with an access token in an auth file entry for the mirror', async () => {
    const ref = `ghcr.io/${PRIVATE_IMAGE.name}:${PRIVATE_IMAGE.tag}`;
    await expect(podman(conf, ['pull', '-q', ref])).rejects.toThrow(/unauthorized|authentication required|401/i);
    const auth = join(work, 'auth.json');
    await writeFile(
      auth,
      JSON.stringify({ auths: { [hostOf(vreg.gatewayUrl)]: { auth: Buffer.from(`node:${setup.pullToken}`).toString('base64') } } }),
    );
    await podman(conf, ['pull', '-q', '--authfile', auth, ref]);
    expect(await digestOf(conf, ref)).toBe(seededImage(env, 'team/app/api', '1.0').digest);
    expect(objectRequests(setup.privateUpstream)).toBeGreaterThan(0);
  });
});

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
