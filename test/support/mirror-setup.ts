import { runCli } from '../../src/cli/run-cli.ts';
import { captureIo } from '../../src/cli/testing/capture-io.ts';
import { copyImage, startTestRegistry, type TestRegistry } from './auth-registry.ts';
import type { VregUnderTest } from './pull-scenarios.ts';
import { hostOf } from './skopeo.ts';
import type { SeededImage, TestEnv } from './test-env.ts';
import { ThrottledProxy } from './throttled-proxy.ts';

/** The private image: the seeded `team/app/api:1.0`, copied with its digests into an upstream that needs credentials. */
export const PRIVATE_IMAGE = { name: 'private/app', tag: '1.0', from: 'team/app/api:1.0' } as const;

/**
 * vreg set up as the mirror of two upstream hosts, as an operator would:
 *
 * - `hub` (public) mirrors docker.io, its upstream the seeded registry A
 *   behind a counting proxy;
 * - `private` (private) mirrors ghcr.io, its upstream a registry with Basic
 *   auth (credentials stored in vreg), also counted; `pullToken` is an access
 *   token that reads only this registry.
 */
export interface MirrorSetup {
  hubId: string;
  privateId: string;
  hub: ThrottledProxy;
  privateUpstream: ThrottledProxy;
  pullToken: string;
  /** `vreg <args>` in process against this vreg's admin API. */
  cli: VregCli;
  stop(): Promise<void>;
}

/** `vreg <args>` in process against this vreg's admin API: resolves stdout, or throws with the exit code and stderr. */
export type VregCli = (args: readonly string[], stdin?: string) => Promise<string>;

/** The CLI bound to a vreg under test, with its admin token and no user config file. */
export function vregCli(vreg: VregUnderTest): VregCli {
  return async (args, stdin) => {
    const io = captureIo(stdin === undefined ? {} : { stdin });
    const code = await runCli(
      args,
      { VREG_URL: vreg.gatewayUrl, VREG_TOKEN: vreg.admin.token, XDG_CONFIG_HOME: '/nonexistent-vreg-test' },
      io,
    );
    if (code !== 0) throw new Error(`vreg ${args.join(' ')} exited ${code}: ${io.stderr.join('\n')}`);
    return io.stdout.join('\n');
  };
}

export async function setUpMirrors(vreg: VregUnderTest, env: TestEnv): Promise<MirrorSetup> {
  const hub = new ThrottledProxy(env.upstreamA, 1 << 30);
  const privateRegistry: TestRegistry = await startTestRegistry({ auth: true });
  const credentials = privateRegistry.credentials as { username: string; password: string };
  await copyImage(
    env.skopeo,
    `${hostOf(env.upstreamA)}/${PRIVATE_IMAGE.from}`,
    `${hostOf(privateRegistry.url)}/${PRIVATE_IMAGE.name}:${PRIVATE_IMAGE.tag}`,
    credentials,
  );
  const privateUpstream = new ThrottledProxy(privateRegistry.url, 1 << 30);
  const hubId = (await vreg.admin.createRegistry('hub')).id;
  await vreg.admin.addUpstream(hubId, { name: 'registry-a', url: await hub.start() });
  const privateId = (await vreg.admin.createRegistry('private', { visibility: 'private' })).id;
  await vreg.admin.addUpstream(privateId, { name: 'private', url: await privateUpstream.start(), ...credentials });
  const cli = vregCli(vreg);
  await cli(['registries', 'mirror-hosts', hubId, 'docker.io']);
  await cli(['registries', 'mirror-hosts', privateId, 'ghcr.io']);
  const created = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', {
    name: 'nodes',
    scopes: ['read_virtual_registry'],
    registry_ids: [privateId],
  });
  if (created.status !== 201) throw new Error(`create token: ${created.status} ${JSON.stringify(created.body)}`);
  return {
    hubId,
    privateId,
    hub,
    privateUpstream,
    pullToken: created.body.token,
    cli,
    async stop() {
      await hub.stop();
      await privateUpstream.stop();
      await privateRegistry.destroy();
    },
  };
}

/** Blob GETs an upstream proxy answered, all blobs together. */
export function blobGets(proxy: ThrottledProxy): number {
  let n = 0;
  for (const [key, c] of proxy.counts) if (key.startsWith('GET ') && key.includes('/blobs/')) n += c;
  return n;
}

/** Every manifest and blob GET or HEAD an upstream proxy answered (token and ping requests aside). */
export function objectRequests(proxy: ThrottledProxy): number {
  let n = 0;
  for (const [key, c] of proxy.counts) if (/\/(manifests|blobs)\//.test(key)) n += c;
  return n;
}

interface SeededManifest {
  digest: string;
  config: { digest: string };
  layers: Array<{ digest: string }>;
  platform?: { architecture: string; variant?: string };
}

/** The seeded image by name and tag, or an error naming what the seed holds. */
export function seededImage(env: TestEnv, name: string, tag: string): SeededImage & { digest: string } {
  const image = env.seeded.find((i) => i.name === name && i.tag === tag);
  if (image === undefined) throw new Error(`${name}:${tag} is not seeded: ${env.seeded.map((i) => `${i.name}:${i.tag}`).join(', ')}`);
  return image as SeededImage & { digest: string };
}

/**
 * The digests a runtime stores for `name:tag` pulled for one platform: the
 * manifest (and the index above it), the config and the layers, sorted.
 */
export function expectedDigests(env: TestEnv, name: string, tag: string, architecture = 'amd64'): string[] {
  const image = seededImage(env, name, tag) as SeededImage & SeededManifest & { manifests?: SeededManifest[] };
  const one = (m: SeededManifest) => [m.digest, m.config.digest, ...m.layers.map((l) => l.digest)];
  if (image.manifests === undefined) return one(image).sort();
  const child = image.manifests.find((m) => m.platform?.architecture === architecture);
  if (child === undefined) throw new Error(`${name}:${tag} has no ${architecture} manifest`);
  return [image.digest, ...one(child)].sort();
}
