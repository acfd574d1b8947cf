import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBlobStore } from '@vreg/blob-store';
import { MemoryEventBus } from '@vreg/bus';
import { buildApp, loadCatalogAppConfig, MemoryCatalogStore } from '@vreg/catalog';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { captureIo } from './testing/capture-io.ts';

const ADMIN = 'cli-mirror-test-admin-token';
let server: FastifyInstance;
let url: string;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'cli-mirror-test' });
  const app = buildApp(loadCatalogAppConfig({ VREG_CATALOG_OBJECTS_CONCURRENCY: '1' }), {
    bus: new MemoryEventBus({ logger }),
    store: new MemoryCatalogStore(),
    secretBox: new SecretBox(randomBytes(32)),
    logger,
    adminToken: ADMIN,
    blobs: new MemoryBlobStore(),
  });
  server = Fastify({ logger: false });
  await server.register(app.adminApi, { prefix: '/api/v1' });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => server?.close());

async function vreg(args: string, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(stdin === undefined ? {} : { stdin });
  const code = await runCli(
    args.split(' ').filter((a) => a !== ''),
    { VREG_URL: url, VREG_TOKEN: ADMIN, XDG_CONFIG_HOME: '/nonexistent-vreg-test' },
    io,
  );
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('vreg registries mirror-hosts and vreg mirror-config', () => {
  let hub: string;
  let github: string;

  it('has nothing to print before any registry mirrors a host', async () => {
    hub = /registry (\d+)/.exec((await vreg('registries create --name hub --visibility public')).out)![1]!;
    github = /registry (\d+)/.exec((await vreg('registries create --name github')).out)![1]!;
    expect(await vreg('mirror-config containerd')).toMatchObject({
      code: 1,
      err: 'vreg: no registry mirrors any host yet: vreg registries mirror-hosts <id> docker.io ghcr.io ...',
    });
  });

  it('sets, shows and clears the hosts a registry mirrors, normalised, and refuses a host another registry has', async () => {
    expect(await vreg(`registries mirror-hosts ${hub} registry-1.docker.io quay.io`)).toMatchObject({
      code: 0,
      out: `Registry ${hub} mirrors docker.io, quay.io.`,
    });
    expect(await vreg(`registries mirror-hosts ${hub} --none`)).toMatchObject({ code: 0, out: `Registry ${hub} mirrors no host.` });
    expect((await vreg(`registries mirror-hosts ${hub} docker.io`)).code).toBe(0);
    expect(await vreg(`registries mirror-hosts ${github} ghcr.io index.docker.io`)).toMatchObject({
      code: 1,
      err: `vreg: CONFLICT: docker.io is already mirrored by registry ${hub}: a host belongs to one registry`,
    });
    expect(JSON.parse((await vreg(`registries mirror-hosts ${github} ghcr.io --json`)).out)).toEqual({
      registry_id: github,
      hosts: ['ghcr.io'],
    });
    expect((await vreg(`registries mirror-hosts ${github}`)).out).toBe(`Registry ${github} mirrors ghcr.io.`);
    expect((await vreg(`registries show ${hub}`)).out).toMatch(/^mirrors: +docker\.io$/m);
    expect(await vreg(`registries mirror-hosts ${github} https://ghcr.io`)).toMatchObject({
      code: 1,
      err: expect.stringContaining('VALIDATION_FAILED'),
    });
    expect(await vreg(`registries mirror-hosts ${github} ghcr.io --none`)).toMatchObject({ code: 2 });
  });

  it('prints containerd hosts.toml files for every mirrored host at the root, and a _default one', async () => {
    const res = await vreg('mirror-config containerd --url https://vreg.example.com');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toBe(
      [
        '# /etc/containerd/certs.d/docker.io/hosts.toml',
        `# docker.io through vreg (registry ${hub}), then https://registry-1.docker.io when vreg cannot serve a pull.`,
        'server = "https://registry-1.docker.io"',
        '',
        '[host."https://vreg.example.com"]',
        '  capabilities = ["pull", "resolve"]',
        '  # A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),',
        '  # sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:',
        '  # [host."https://vreg.example.com".header]',
        '  #   Authorization = "Basic <base64 of vreg:<access token>>"',
        '',
        '# /etc/containerd/certs.d/ghcr.io/hosts.toml',
        `# ghcr.io through vreg (registry ${github}), then https://ghcr.io when vreg cannot serve a pull.`,
        'server = "https://ghcr.io"',
        '',
        '[host."https://vreg.example.com"]',
        '  capabilities = ["pull", "resolve"]',
        '  # A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),',
        '  # sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:',
        '  # [host."https://vreg.example.com".header]',
        '  #   Authorization = "Basic <base64 of vreg:<access token>>"',
        '',
        '# /etc/containerd/certs.d/_default/hosts.toml',
        '# Every other host: vreg first (containerd sends ?ns=<host>; vreg answers 404 for a host none of its',
        '# registries mirrors), then the host itself. containerd >= 1.6.17 / 1.7.',
        '[host."https://vreg.example.com"]',
        '  capabilities = ["pull", "resolve"]',
        '  # A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),',
        '  # sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:',
        '  # [host."https://vreg.example.com".header]',
        '  #   Authorization = "Basic <base64 of vreg:<access token>>"',
      ].join('\n'),
    );
  });

  it('uses one registry’s own path with override_path for --registry, with a token header from stdin, into --output-dir', async () => {
    const json = await vreg(
      `mirror-config containerd --registry ${github} --url http://10.0.0.5:5000 --pull-token-stdin --json`,
      'vregat_abc\n',
    );
    expect(json.code, json.err).toBe(0);
    const files = (JSON.parse(json.out) as { files: Array<{ path: string; content: string }> }).files;
    expect(files.map((f) => f.path)).toEqual(['ghcr.io/hosts.toml']);
    expect(files[0]?.content).toBe(
      [
        `# ghcr.io through vreg (registry ${github}), then https://ghcr.io when vreg cannot serve a pull.`,
        'server = "https://ghcr.io"',
        '',
        `[host."http://10.0.0.5:5000/v2/virtual_registries/containers/${github}"]`,
        '  capabilities = ["pull", "resolve"]',
        '  override_path = true',
        `  [host."http://10.0.0.5:5000/v2/virtual_registries/containers/${github}".header]`,
        `    Authorization = "Basic ${Buffer.from('vreg:vregat_abc').toString('base64')}"`,
        '',
      ].join('\n'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'vreg-certs-d-'));
    try {
      const written = await vreg(`mirror-config containerd --url http://10.0.0.5:5000 --output-dir ${dir}`);
      expect(written.out.split('\n')).toEqual([
        `wrote ${dir}/docker.io/hosts.toml`,
        `wrote ${dir}/ghcr.io/hosts.toml`,
        `wrote ${dir}/_default/hosts.toml`,
      ]);
      expect(await readFile(join(dir, '_default/hosts.toml'), 'utf8')).toContain('[host."http://10.0.0.5:5000"]');
      expect((await stat(join(dir, 'docker.io/hosts.toml'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes vreg the only host with --no-fallback, at the root and on one registry’s own path, so a refusal stays one', async () => {
    const root = await vreg('mirror-config containerd --url https://vreg.example.com --no-fallback --json');
    expect(root.code, root.err).toBe(0);
    const files = (JSON.parse(root.out) as { files: Array<{ path: string; content: string }> }).files;
    expect(files.map((f) => f.path)).toEqual(['docker.io/hosts.toml', 'ghcr.io/hosts.toml', '_default/hosts.toml']);
    expect(files[0]?.content).toBe(
      [
        `# docker.io through vreg (registry ${hub}) only: no fallback to https://registry-1.docker.io, so a pull vreg refuses stays refused.`,
        'server = "https://vreg.example.com"',
        'capabilities = ["pull", "resolve"]',
        '# A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),',
        '# sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:',
        '# [header]',
        '#   Authorization = "Basic <base64 of vreg:<access token>>"',
        '',
        '# No other host: vreg, the server, is the only one containerd asks.',
        '[host]',
        '',
      ].join('\n'),
    );
    expect(files[2]?.content).toBe(
      [
        '# Every other host: vreg only (containerd sends ?ns=<host>), no fallback to the host itself: a host none',
        "# of vreg's registries mirrors answers 404 and its pulls fail. containerd >= 1.6.17 / 1.7.",
        'server = "https://vreg.example.com"',
        'capabilities = ["pull", "resolve"]',
        '# A private registry needs an access token that can read it (vreg tokens create --scope read_virtual_registry),',
        '# sent as the password of a Basic header; print this file with --pull-token-stdin to fill it in:',
        '# [header]',
        '#   Authorization = "Basic <base64 of vreg:<access token>>"',
        '',
        '# No other host: vreg, the server, is the only one containerd asks.',
        '[host]',
        '',
      ].join('\n'),
    );
    // An empty host table (containerd 1.6 rejects a file without one, then pulls from the upstream): no other host.
    for (const f of files) expect(f.content, f.path).not.toContain('[host.');
    const own = await vreg(
      `mirror-config containerd --registry ${github} --url http://10.0.0.5:5000 --no-fallback --pull-token-stdin`,
      'vregat_abc\n',
    );
    expect(own.code, own.err).toBe(0);
    expect(own.out).toBe(
      [
        '# /etc/containerd/certs.d/ghcr.io/hosts.toml',
        `# ghcr.io through vreg (registry ${github}) only: no fallback to https://ghcr.io, so a pull vreg refuses stays refused.`,
        `server = "http://10.0.0.5:5000/v2/virtual_registries/containers/${github}"`,
        'capabilities = ["pull", "resolve"]',
        'override_path = true',
        '[header]',
        `  Authorization = "Basic ${Buffer.from('vreg:vregat_abc').toString('base64')}"`,
        '',
        '# No other host: vreg, the server, is the only one containerd asks.',
        '[host]',
      ].join('\n'),
    );
    expect(await vreg('mirror-config podman --no-fallback')).toMatchObject({ code: 2, err: expect.stringContaining('--no-fallback') });
  });

  it('prints Docker’s registry-mirrors for the docker.io mirror, and says why when the registry mirrors no docker.io', async () => {
    expect(await vreg('mirror-config docker --url https://vreg.example.com')).toMatchObject({
      code: 0,
      out: [
        `# /etc/docker/daemon.json (merge into an existing one), then reload dockerd; docker.io through registry ${hub}`,
        '{',
        '  "registry-mirrors": [',
        '    "https://vreg.example.com"',
        '  ]',
        '}',
      ].join('\n'),
    });
    expect(await vreg(`mirror-config docker --registry ${github}`)).toMatchObject({
      code: 1,
      err: `vreg: Docker's registry-mirrors mirror Docker Hub only, and registry ${github} does not mirror docker.io: vreg registries mirror-hosts ${github} ... docker.io`,
    });
  });

  it('prints podman registries.conf entries with each registry’s path as the mirror, insecure only over http', async () => {
    const res = await vreg(`mirror-config podman --url ${url}`);
    const host = new URL(url).host;
    expect(res.out).toBe(
      [
        '# /etc/containers/registries.conf.d/vreg.conf (or add to /etc/containers/registries.conf)',
        `# docker.io through vreg (registry ${hub}), then docker.io itself.`,
        '[[registry]]',
        'prefix = "docker.io"',
        'location = "docker.io"',
        '',
        '[[registry.mirror]]',
        `location = "${host}/virtual_registries/containers/${hub}"`,
        'insecure = true',
        '',
        `# ghcr.io through vreg (registry ${github}), then ghcr.io itself.`,
        '[[registry]]',
        'prefix = "ghcr.io"',
        'location = "ghcr.io"',
        '',
        '[[registry.mirror]]',
        `location = "${host}/virtual_registries/containers/${github}"`,
        'insecure = true',
      ].join('\n'),
    );
    expect((await vreg('mirror-config podman --url https://vreg.example.com')).out).not.toContain('insecure');
  });

  it('refuses a wrong runtime, a URL with a path, and containerd-only options elsewhere', async () => {
    expect(await vreg('mirror-config cri-o')).toMatchObject({ code: 2, err: expect.stringContaining('unknown runtime "cri-o"') });
    expect(await vreg('mirror-config containerd --url https://vreg.example.com/v2')).toMatchObject({
      code: 2,
      err: expect.stringContaining('without a path'),
    });
    expect(await vreg('mirror-config docker --output-dir /tmp/x')).toMatchObject({ code: 2 });
    expect(await vreg('mirror-config containerd --registry x')).toMatchObject({ code: 2 });
  });
});
