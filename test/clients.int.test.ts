import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { hostOf } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { ThrottledProxy } from './support/throttled-proxy.ts';
import { waitFor } from './support/wait.ts';

const run = promisify(execFile);
const sh = async (cmd: string, args: string[], cwd?: string): Promise<string> => {
  try {
    return (await run(cmd, args, { timeout: 120_000, maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
};

/**
 * Real clients besides skopeo pull through the gateway: crane
 * (go-containerregistry, what ko and many CI tools use), oras (OCI
 * artifacts and their referrers) and podman. The upstream sits behind a counting proxy
 * so the cache's promises are proven by upstream request counts.
 */
describe('real clients through the gateway (embedded mode)', () => {
  const env = testEnv();
  const counted = new ThrottledProxy(env.upstreamA, 1 << 30);
  let vreg: VregUnderTest;
  let registryId: string;
  let repo: (image: string) => string;
  const artifact = `artifacts/hello-${randomBytes(4).toString('hex')}`;
  const upstreamHost = hostOf(env.upstreamA);

  beforeAll(async () => {
    vreg = await startEmbeddedUnderTest();
    registryId = (await vreg.admin.createRegistry('clients')).id;
    await vreg.admin.addUpstream(registryId, { name: 'counted-a', url: await counted.start() });
    repo = (image) => `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/${image}`;
    // An OCI artifact with an SBOM attached, pushed by oras to the upstream (no referrers API there: oras uses the tag schema).
    const dir = await mkdtemp(join(tmpdir(), 'vreg-oras-'));
    await writeFile(join(dir, 'hello.txt'), 'hello from vreg\n');
    await writeFile(join(dir, 'sbom.json'), '{"sbom":true}\n');
    await sh('oras', ['push', '--plain-http', `${upstreamHost}/${artifact}:v1`, 'hello.txt:text/plain'], dir);
    await sh(
      'oras',
      [
        'attach',
        '--plain-http',
        '--artifact-type',
        'application/vnd.example.sbom',
        `${upstreamHost}/${artifact}:v1`,
        'sbom.json:application/json',
      ],
      dir,
    );
  });

  afterAll(async () => {
    await vreg?.stop();
    await counted.stop();
  });

  it('crane pulls an image byte-identical to a direct pull, and the second digest lookup costs no upstream request', async () => {
    const direct = (await sh('crane', ['digest', '--insecure', `${upstreamHost}/library/busybox:latest`])).trim();
    expect((await sh('crane', ['digest', '--insecure', `${repo('library/busybox')}:latest`])).trim()).toBe(direct);
    const [a, b] = [await mkdtemp(join(tmpdir(), 'crane-a-')), await mkdtemp(join(tmpdir(), 'crane-b-'))];
    await sh('crane', ['pull', '--insecure', '--format=oci', `${upstreamHost}/library/busybox:latest`, a]);
    await sh('crane', ['pull', '--insecure', '--format=oci', `${repo('library/busybox')}:latest`, b]);
    const blobsA = (await readdir(join(a, 'blobs/sha256'))).sort();
    expect((await readdir(join(b, 'blobs/sha256'))).sort()).toEqual(blobsA);
    for (const f of blobsA)
      expect((await readFile(join(b, 'blobs/sha256', f))).equals(await readFile(join(a, 'blobs/sha256', f)))).toBe(true);
    const before = counted.count('GET', '/library/busybox/manifests/latest') + counted.count('HEAD', '/library/busybox/manifests/latest');
    await sh('crane', ['digest', '--insecure', `${repo('library/busybox')}:latest`]);
    expect(counted.count('GET', '/library/busybox/manifests/latest') + counted.count('HEAD', '/library/busybox/manifests/latest')).toBe(
      before,
    );
  });

  it('crane lists tags through the gateway, the second listing from cache', async () => {
    const direct = (await sh('crane', ['ls', '--insecure', `${upstreamHost}/library/multiarch`])).trim().split('\n').sort();
    expect((await sh('crane', ['ls', '--insecure', repo('library/multiarch')])).trim().split('\n').sort()).toEqual(direct);
    await sh('crane', ['ls', '--insecure', repo('library/multiarch')]);
    expect(counted.count('GET', '/library/multiarch/tags/list')).toBe(1);
  });

  it('oras pulls an artifact and discovers its referrers through the gateway', async () => {
    const out = await mkdtemp(join(tmpdir(), 'oras-out-'));
    await sh('oras', ['pull', '--plain-http', '-o', out, `${repo(artifact)}:v1`]);
    expect(await readFile(join(out, 'hello.txt'), 'utf8')).toBe('hello from vreg\n');
    const discovered = JSON.parse(await sh('oras', ['discover', '--plain-http', '--format', 'json', `${repo(artifact)}:v1`])) as Record<
      string,
      unknown
    >;
    const text = JSON.stringify(discovered);
    expect(text).toContain('application/vnd.example.sbom');
    await sh('oras', ['discover', '--plain-http', '--format', 'json', `${repo(artifact)}:v1`]);
    // One referrers request (the upstream has no such API) and one tag-schema index; the second discovery came from cache.
    const subject = (await sh('crane', ['digest', '--insecure', `${upstreamHost}/${artifact}:v1`])).trim();
    expect(counted.count('GET', `/${artifact}/referrers/${subject}`)).toBe(1);
    expect(counted.count('GET', `/${artifact}/manifests/${subject.replace(':', '-')}`)).toBe(1);
  });

  it('podman pulls an image through the gateway with the same image id and digest as a direct pull', async () => {
    const store = await mkdtemp(join(tmpdir(), 'podman-'));
    // vfs storage under a temp root: no daemon, no overlay mounts, nothing shared with the machine.
    const podman = (args: string[]): Promise<string> =>
      sh('podman', ['--storage-driver=vfs', '--root', join(store, 'root'), '--runroot', join(store, 'run'), ...args]);
    const directId = (await podman(['pull', '-q', '--tls-verify=false', `${upstreamHost}/library/busybox:latest`])).trim();
    const throughId = (await podman(['pull', '-q', '--tls-verify=false', `${repo('library/busybox')}:latest`])).trim();
    expect(throughId).toBe(directId);
    const digest = (await podman(['image', 'inspect', '--format', '{{.Digest}}', `${repo('library/busybox')}:latest`])).trim();
    expect(digest).toBe((await sh('crane', ['digest', '--insecure', `${upstreamHost}/library/busybox:latest`])).trim());
  });

  it('serves byte ranges of a blob on a miss and on a hit, and 416 past the end', async () => {
    const manifest = JSON.parse(await sh('crane', ['manifest', '--insecure', `${upstreamHost}/library/bigimage:v1`])) as {
      layers: Array<{ digest: string; size: number }>;
    };
    const layer = manifest.layers.sort((x, y) => x.size - y.size)[manifest.layers.length - 2]!;
    const whole = Buffer.from(await (await fetch(`${env.upstreamA}/v2/library/bigimage/blobs/${layer.digest}`)).arrayBuffer());
    const url = `${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/library/bigimage/blobs/${layer.digest}`;
    for (const cache of ['miss', 'hit']) {
      const res = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
      expect(res.status, cache).toBe(206);
      expect(res.headers.get('x-vreg-cache')).toBe(cache);
      expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${whole.length}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(1000, 2000)), cache).toBe(true);
      // The fill goes on after the range was answered: the next request is a hit once it is recorded, however slow the machine.
      if (cache === 'miss')
        await waitFor('the blob recorded', async () =>
          (await fetch(url, { method: 'HEAD' })).headers.get('x-vreg-cache') === 'hit' ? true : undefined,
        );
    }
    const past = await fetch(url, { headers: { range: `bytes=${whole.length}-` } });
    expect(past.status).toBe(416);
    expect(counted.count('GET', `/library/bigimage/blobs/${layer.digest}`)).toBe(1);
  });

  it('pulls a one-component name like docker pull alpine when the upstream adds library/', async () => {
    const hubLike = (await vreg.admin.createRegistry('hub-like')).id;
    await vreg.admin.addUpstream(hubLike, { name: 'a-as-hub', url: env.upstreamA, library_prefix: true });
    const short = `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${hubLike}/busybox:latest`;
    const direct = (await sh('crane', ['digest', '--insecure', `${upstreamHost}/library/busybox:latest`])).trim();
    expect((await sh('crane', ['digest', '--insecure', short])).trim()).toBe(direct);
    const dir = await mkdtemp(join(tmpdir(), 'crane-short-'));
    await sh('crane', ['pull', '--insecure', '--format=oci', short, dir]);
    expect((await readdir(join(dir, 'blobs/sha256'))).length).toBeGreaterThan(2);
  });

  it('remembers an unknown tag: three pulls, one upstream request', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/library/busybox/manifests/no-such-tag`);
      expect(res.status).toBe(404);
    }
    expect(counted.count('GET', '/library/busybox/manifests/no-such-tag')).toBe(1);
  });
});
