/** One upstream host a registry mirrors (`GET /mirror_hosts`). */
export interface MirroredHost {
  host: string;
  registryId: string;
}

/** A file of a runtime's configuration: where it goes and what it holds. */
export interface ConfigFile {
  /** Relative to the runtime's configuration directory: `docker.io/hosts.toml` under `/etc/containerd/certs.d`. */
  path: string;
  content: string;
}

/** Where containerd looks for hosts.toml files (`config_path` of its CRI registry settings). */
export const CONTAINERD_CERTS_DIR = '/etc/containerd/certs.d';

const DOCKER_HUB = 'docker.io';

/** The host containerd contacts when no mirror answers: Docker Hub's API host is not docker.io. */
function upstreamServer(host: string): string {
  return host === DOCKER_HUB ? 'https://registry-1.docker.io' : `https://${host}`;
}

/**
 * An empty host table: containerd 1.6 rejects a hosts.toml without one
 * ("invalid `host` tree") and then pulls from the upstream itself, the very
 * fallback a file without other hosts is meant to shut.
 */
const NO_OTHER_HOST = ['', '# No other host: vreg, the server, is the only one containerd asks.', '[host]'];

/** The gateway URL as runtimes need it: scheme, host and port, no path or trailing slash. */
export function gatewayBase(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** A Basic Authorization header for `table` (`host."<url>"`, or `` for the file's own `server`), or how to add one. */
function basicHeader(pullToken: string | undefined, table: string, indent: string): string[] {
  const name = table === '' ? 'header' : `${table}.header`;
  if (pullToken === undefined) {
    return [
      `${indent}# A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),`,
      `${indent}# sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:`,
      `${indent}# [${name}]`,
      `${indent}#   Authorization = "Basic <base64 of vreg:<access token>>"`,
    ];
  }
  const basic = Buffer.from(`vreg:${pullToken}`).toString('base64');
  return [`${indent}[${name}]`, `${indent}  Authorization = "Basic ${basic}"`];
}

/**
 * containerd's hosts.toml files (one directory per upstream host under
 * `/etc/containerd/certs.d`, read by `ctr --hosts-dir` and by the CRI plugin
 * through `config_path`).
 *
 * For every mirrored host (`mode: 'root'`): vreg's root path, where
 * containerd's `?ns=<host>` picks the registry, then the host itself when
 * vreg cannot serve a pull; and `_default` for every other host, so a host
 * mirrored later needs no new file on the nodes (a host no registry mirrors
 * gets a 404 and goes to the host itself).
 *
 * For one registry (`mode: 'registry'`): its prefixed path with
 * `override_path`, for its own hosts only. No `_default` then: a prefixed
 * path serves whatever its upstreams hold under a name, whichever host the
 * image reference named.
 *
 * containerd tries the next host after any error status, a 403 included,
 * and the `server` last: a pull vreg's policy refuses is then fetched from
 * the upstream itself. With `fallback: false` vreg is each file's `server`
 * and there is no other host, so a refusal stays one (and a pull fails
 * while vreg is down, and for a host no registry mirrors).
 */
export function containerdHostsFiles(
  url: URL,
  hosts: readonly MirroredHost[],
  options: { mode: 'root' | 'registry'; pullToken?: string; fallback?: boolean },
): ConfigFile[] {
  const base = gatewayBase(url);
  const fallback = options.fallback ?? true;
  const files: ConfigFile[] = [];
  for (const { host, registryId } of hosts) {
    const vreg = options.mode === 'root' ? base : `${base}/v2/virtual_registries/containers/${registryId}`;
    const endpoint = { url: vreg, overridePath: options.mode === 'registry', pullToken: options.pullToken };
    const upstream = upstreamServer(host);
    files.push({
      path: `${host}/hosts.toml`,
      content: fallback
        ? vregThenServer(
            [`# ${host} through vreg (registry ${registryId}), then ${upstream} when vreg cannot serve a pull.`],
            upstream,
            endpoint,
          )
        : vregOnly(
            [`# ${host} through vreg (registry ${registryId}) only: no fallback to ${upstream}, so a pull vreg refuses stays refused.`],
            endpoint,
          ),
    });
  }
  if (options.mode === 'root') {
    const endpoint = { url: base, overridePath: false, pullToken: options.pullToken };
    files.push({
      path: '_default/hosts.toml',
      content: fallback
        ? vregThenServer(
            [
              '# Every other host: vreg first (containerd sends ?ns=<host>; vreg answers 404 for a host none of its',
              '# registries mirrors), then the host itself. containerd >= 1.6.17 / 1.7.',
            ],
            undefined,
            endpoint,
          )
        : vregOnly(
            [
              '# Every other host: vreg only (containerd sends ?ns=<host>), no fallback to the host itself: a host none',
              "# of vreg's registries mirrors answers 404 and its pulls fail. containerd >= 1.6.17 / 1.7.",
            ],
            endpoint,
          ),
    });
  }
  return files;
}

interface VregEndpoint {
  url: string;
  overridePath: boolean;
  pullToken: string | undefined;
}

/** vreg as a `[host]`, then `server` (the host itself when absent, as for `_default`). */
function vregThenServer(comment: string[], server: string | undefined, vreg: VregEndpoint): string {
  return [
    ...comment,
    ...(server === undefined ? [] : [`server = "${server}"`, '']),
    `[host."${vreg.url}"]`,
    '  capabilities = ["pull", "resolve"]',
    ...(vreg.overridePath ? ['  override_path = true'] : []),
    ...basicHeader(vreg.pullToken, `host."${vreg.url}"`, '  '),
    '',
  ].join('\n');
}

/** vreg as the `server` and no other host. */
function vregOnly(comment: string[], vreg: VregEndpoint): string {
  return [
    ...comment,
    `server = "${vreg.url}"`,
    'capabilities = ["pull", "resolve"]',
    ...(vreg.overridePath ? ['override_path = true'] : []),
    ...basicHeader(vreg.pullToken, '', ''),
    ...NO_OTHER_HOST,
    '',
  ].join('\n');
}

/**
 * Docker's `daemon.json`: `registry-mirrors` mirror Docker Hub only, at the
 * root of a URL with no path (Docker 20.10 refuses one), and send no `ns`:
 * vreg routes them to the registry mirroring docker.io.
 */
export function dockerDaemonJson(url: URL): string {
  return `${JSON.stringify({ 'registry-mirrors': [gatewayBase(url)] }, null, 2)}\n`;
}

/**
 * podman's (containers/image's) `registries.conf`: one `[[registry]]` per
 * mirrored host with vreg's prefixed path as its mirror. The location's path
 * is a repository prefix there, and podman sends no `ns`, so each host gets
 * its own registry's path rather than the root.
 */
export function podmanRegistriesConf(url: URL, hosts: readonly MirroredHost[]): string {
  const location = `${url.host}/virtual_registries/containers`;
  const lines: string[] = [];
  for (const { host, registryId } of hosts) {
    lines.push(
      `# ${host} through vreg (registry ${registryId}), then ${host} itself.`,
      '[[registry]]',
      `prefix = "${host}"`,
      `location = "${host}"`,
      '',
      '[[registry.mirror]]',
      `location = "${location}/${registryId}"`,
      ...(url.protocol === 'http:' ? ['insecure = true'] : []),
      '',
    );
  }
  return lines.join('\n');
}
