import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MirrorHostJson, RegistryMirrorHostsJson } from '@vreg/contracts/admin-api-json';
import type { AdminApiClient } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import {
  CONTAINERD_CERTS_DIR,
  type ConfigFile,
  containerdHostsFiles,
  dockerDaemonJson,
  type MirroredHost,
  podmanRegistriesConf,
} from './mirror-config.ts';

export const MIRROR_CONFIG_USAGE = `Usage:
  vreg mirror-config containerd [--registry <id>] [--url <gateway url>] [--no-fallback] [--pull-token-stdin] [--output-dir <dir>] [--json]
  vreg mirror-config docker [--registry <id>] [--url <gateway url>] [--json]
  vreg mirror-config podman [--registry <id>] [--url <gateway url>] [--json]

Prints the configuration that makes a container runtime pull through vreg,
for the upstream hosts vreg's registries mirror (vreg registries mirror-hosts).

containerd  a hosts.toml per mirrored host and a _default one, for
            ${CONTAINERD_CERTS_DIR} (config_path): vreg's root path, where containerd's
            ?ns=<host> picks the registry. With --registry, that registry's hosts
            only, on its own path (override_path) and without _default.
            containerd falls back to the host itself after any error from vreg,
            a pull policy's 403 included; --no-fallback makes vreg the only host
            (enforce a pull policy with it; pulls then fail while vreg is down).
            --output-dir writes the files there instead of printing them.
            --pull-token-stdin reads an access token (read_virtual_registry) and puts
            it in every file as a Basic Authorization header, for private registries.
docker      daemon.json registry-mirrors: Docker mirrors Docker Hub only, so a
            registry must mirror docker.io.
podman      registries.conf [[registry]] entries, each with its registry's path
            as the mirror (podman sends no ns).

--url is the gateway as the nodes reach it (default: the server vreg login saved,
right for the embedded mode; in the distributed mode, the gateway's address).`;

const RUNTIMES = ['containerd', 'docker', 'podman'] as const;
type Runtime = (typeof RUNTIMES)[number];

function urlArg(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, not ${JSON.stringify(value)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.search !== '' || url.hash !== '')
    throw new UsageError(`--url must be an http(s) URL without credentials, query or fragment, not ${JSON.stringify(value)}`);
  if (url.pathname !== '/')
    throw new UsageError(`--url is the gateway's address without a path (runtimes add /v2/...), not ${JSON.stringify(value)}`);
  return url;
}

async function mirroredHosts(api: AdminApiClient, registryId: string | undefined): Promise<MirroredHost[]> {
  if (registryId !== undefined) {
    const { body } = await api.request<RegistryMirrorHostsJson>('GET', `/registries/${registryId}/mirror_hosts`);
    return body.hosts.map((host) => ({ host, registryId }));
  }
  const { body } = await api.request<MirrorHostJson[]>('GET', '/mirror_hosts');
  return body.map((m) => ({ host: m.host, registryId: m.registry_id }));
}

function noHosts(registryId: string | undefined): CommandFailedError {
  return new CommandFailedError(
    registryId === undefined
      ? 'no registry mirrors any host yet: vreg registries mirror-hosts <id> docker.io ghcr.io ...'
      : `registry ${registryId} mirrors no host yet: vreg registries mirror-hosts ${registryId} docker.io ...`,
  );
}

export async function mirrorConfigCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const { values, positionals } = parseCommand(
    'mirror-config',
    args,
    {
      registry: { type: 'string' },
      url: { type: 'string' },
      'pull-token-stdin': { type: 'boolean', default: false },
      'no-fallback': { type: 'boolean', default: false },
      'output-dir': { type: 'string' },
    },
    { min: 1, max: 1, what: `a runtime: ${RUNTIMES.join(', ')}` },
  );
  const runtime = positionals[0] as Runtime;
  if (!RUNTIMES.includes(runtime))
    throw new UsageError(`mirror-config: unknown runtime ${JSON.stringify(runtime)}; one of ${RUNTIMES.join(', ')}`);
  if (
    runtime !== 'containerd' &&
    (values['output-dir'] !== undefined || values['pull-token-stdin'] === true || values['no-fallback'] === true)
  )
    throw new UsageError('--output-dir, --pull-token-stdin and --no-fallback are for containerd');
  const registryId = values.registry === undefined ? undefined : idArg(values.registry, '--registry');
  const url = urlArg(values.url ?? (await api.serverUrl()));
  const hosts = await mirroredHosts(api, registryId);
  if (hosts.length === 0) throw noHosts(registryId);

  if (runtime === 'docker') {
    const hub = hosts.find((h) => h.host === 'docker.io');
    if (hub === undefined)
      throw new CommandFailedError(
        registryId === undefined
          ? "Docker's registry-mirrors mirror Docker Hub only, and no registry mirrors docker.io: vreg registries mirror-hosts <id> docker.io"
          : `Docker's registry-mirrors mirror Docker Hub only, and registry ${registryId} does not mirror docker.io: vreg registries mirror-hosts ${registryId} ... docker.io`,
      );
    const content = dockerDaemonJson(url);
    if (values.json) return io.out(JSON.stringify({ files: [{ path: 'daemon.json', content }] }, null, 2));
    io.out(`# /etc/docker/daemon.json (merge into an existing one), then reload dockerd; docker.io through registry ${hub.registryId}`);
    io.out(content.trimEnd());
    return;
  }
  if (runtime === 'podman') {
    const content = podmanRegistriesConf(url, hosts);
    if (values.json) return io.out(JSON.stringify({ files: [{ path: 'registries.conf', content }] }, null, 2));
    io.out('# /etc/containers/registries.conf.d/vreg.conf (or add to /etc/containers/registries.conf)');
    io.out(content.trimEnd());
    return;
  }

  const pullToken = values['pull-token-stdin'] === true ? (await io.readStdin()).trim() : undefined;
  if (pullToken === '') throw new UsageError('--pull-token-stdin read no token');
  const files = containerdHostsFiles(url, hosts, {
    mode: registryId === undefined ? 'root' : 'registry',
    fallback: values['no-fallback'] !== true,
    ...(pullToken ? { pullToken } : {}),
  });
  const outputDir = values['output-dir'];
  if (outputDir !== undefined) {
    await writeFiles(outputDir, files);
    if (values.json) return io.out(JSON.stringify({ files: files.map((f) => ({ path: join(outputDir, f.path) })) }, null, 2));
    for (const f of files) io.out(`wrote ${join(outputDir, f.path)}`);
    return;
  }
  if (values.json) return io.out(JSON.stringify({ files }, null, 2));
  for (const [i, f] of files.entries()) {
    if (i > 0) io.out('');
    io.out(`# ${CONTAINERD_CERTS_DIR}/${f.path}`);
    io.out(f.content.trimEnd());
  }
}

/** Writes each file (mode 0600 when it may hold a token), creating its host's directory. */
async function writeFiles(dir: string, files: readonly ConfigFile[]): Promise<void> {
  for (const f of files) {
    const path = join(dir, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content, { mode: 0o600 });
  }
}
