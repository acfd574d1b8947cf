import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
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
import { expiryFrom } from './tokens-command.ts';

const ADMIN = 'cli-test-admin-token-0123';
let server: FastifyInstance;
let url: string;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'cli-test' });
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

async function vregWith(
  args: string,
  env: Record<string, string | undefined>,
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(stdin === undefined ? {} : { stdin });
  const code = await runCli(
    args.split(' ').filter((a) => a !== ''),
    env,
    io,
  );
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function vreg(args: string, token = ADMIN): Promise<{ code: number; out: string; err: string }> {
  return vregWith(args, { VREG_URL: url, VREG_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent-vreg-test' });
}

describe('the vreg CLI', () => {
  it('creates and lists registries', async () => {
    expect(await vreg('registries create --name hub --visibility public')).toMatchObject({
      code: 0,
      out: 'Created public registry 1 "hub".',
    });
    expect((await vreg('registries create --name internal --description team')).out).toBe('Created private registry 2 "internal".');
    const list = await vreg('registries list');
    expect(list.out.split('\n')).toEqual([
      'ID  NAME      VISIBILITY  QUOTA  DESCRIPTION',
      '1   hub       public      none',
      '2   internal  private     none   team',
    ]);
    expect(JSON.parse((await vreg('registries list --json')).out)).toHaveLength(2);
  });

  it('creates a token, printing only the secret on stdout, then lists and revokes it', async () => {
    const created = await vreg('tokens create --name ci --registry 2 --expires-in 30d');
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^vregat_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toContain('shown only now');
    const listed = await vreg('tokens list');
    expect(listed.out).toContain('read_virtual_registry');
    expect(listed.out).toContain(created.out.slice(0, 11));
    expect(listed.out).not.toContain(created.out);
    const id = (JSON.parse((await vreg('tokens list --json')).out) as Array<{ id: string; name: string }>).find((t) => t.name === 'ci')!.id;
    expect(await vreg(`tokens revoke ${id}`)).toMatchObject({ code: 0, err: `Revoked access token ${id}.` });
    expect((await vreg('tokens list')).out).toMatch(/revoked$/m);
  });

  it('works with an admin-scoped access token and is refused with a pull-only one', async () => {
    const admin = (await vreg('tokens create --name ops --scope admin')).out;
    expect((await vreg('registries list', admin)).code).toBe(0);
    const pull = (await vreg('tokens create --name pull --scope read_virtual_registry')).out;
    expect(await vreg('registries create --name nope', pull)).toMatchObject({
      code: 1,
      err: 'vreg: DENIED: this access token is read-only: changes need a token with the admin scope',
    });
    // login wants a token that can administer, not one that only reads.
    expect(await vregWith(`login --url ${url} --token-stdin`, { XDG_CONFIG_HOME: '/nonexistent-vreg-test' }, pull)).toMatchObject({
      code: 1,
      err: 'vreg: this token is read-only (read_virtual_registry): vreg needs the admin token or a token with the admin scope',
    });
    expect(await vreg('registries list', 'wrong-token')).toMatchObject({
      code: 1,
      err: 'vreg: UNAUTHORIZED: the admin token is not valid',
    });
  });

  it('works within the registries of a restricted admin token, and says why it refuses the rest', async () => {
    const id = (await vreg('registries create --name team-cli --json')).out;
    const registryId = JSON.parse(id).id as string;
    const team = (await vreg(`tokens create --name team --scope admin --registry ${registryId} --expires-in 2d`)).out;
    const config = await mkdtemp(join(tmpdir(), 'vreg-cli-config-'));
    expect(await vregWith(`login --url ${url} --token-stdin`, { XDG_CONFIG_HOME: config }, team)).toMatchObject({
      code: 0,
      err: `Logged in to ${url} (saved to ${join(config, 'vreg', 'config.json')}). The token is restricted to registries ${registryId}.`,
    });
    expect((await vreg(`registries update ${registryId} --description ours`, team)).code).toBe(0);
    expect(await vreg('registries create --name escape', team)).toMatchObject({
      code: 1,
      err: expect.stringContaining(
        `vreg: DENIED: this access token is restricted to registries ${registryId}: this route concerns every registry`,
      ),
    });
    expect(await vreg('tokens create --name wider --scope admin', team)).toMatchObject({
      code: 1,
      err: expect.stringContaining('the new token must be restricted too'),
    });
    const ci = await vreg(`tokens create --name ci --registry ${registryId} --expires-in 1d --json`, team);
    expect(ci.code).toBe(0);
    expect(JSON.parse(ci.out)).toMatchObject({ registry_ids: [registryId], scopes: ['read_virtual_registry'] });
    expect((await vreg(`tokens create --name later --registry ${registryId} --expires-in 3d`, team)).err).toContain('cannot expire later');
  });

  it('answers usage mistakes with exit code 2 and server refusals with 1', async () => {
    expect((await vreg('tokens create')).code).toBe(2);
    expect((await vreg('tokens create --name x --bogus')).code).toBe(2);
    expect((await vreg('tokens revoke abc')).code).toBe(2);
    expect((await vreg('frobnicate')).code).toBe(2);
    expect((await vreg('tokens create --name x --registry 999')).code).toBe(1);
    const noToken = await vregWith('registries list', { VREG_URL: url, XDG_CONFIG_HOME: '/nonexistent-vreg-test' });
    expect(noToken).toMatchObject({ code: 2, err: 'vreg: not logged in: run `vreg login --url URL` (or set VREG_URL and VREG_TOKEN)' });
  });

  it('turns --expires-in into a time', () => {
    expect(expiryFrom('2d', new Date('2030-01-01T00:00:00Z'))).toBe('2030-01-03T00:00:00.000Z');
    expect(expiryFrom('12h', new Date('2030-01-01T00:00:00Z'))).toBe('2030-01-01T12:00:00.000Z');
    expect(() => expiryFrom('soon', new Date())).toThrow();
  });
});

describe('the vreg CLI: registries and upstreams', () => {
  it('shows, updates and deletes a registry, naming a missing one as a shell user expects', async () => {
    const id = /registry (\d+)/.exec((await vreg('registries create --name temp --description first')).out)![1]!;
    expect((await vreg(`registries show ${id}`)).out).toMatch(
      new RegExp(
        `^id: +${id}\\nname: +temp\\ndescription: +first\\nvisibility: +private\\nquota: +none\\n[^]*\\n\\nNo upstreams yet \\(vreg upstreams add ${id} --name <name> --url <url>\\)\\.$`,
      ),
    );
    expect(await vreg(`registries update ${id} --name renamed --visibility public --no-description`)).toMatchObject({
      code: 0,
      out: `Updated registry ${id} "renamed": public, quota none.`,
    });
    expect(JSON.parse((await vreg(`registries show ${id} --json`)).out)).toMatchObject({ id, name: 'renamed', visibility: 'public' });
    expect(JSON.parse((await vreg(`registries show ${id} --json`)).out).description).toBeUndefined();
    expect(await vreg(`registries delete ${id} --json`)).toMatchObject({ code: 0, out: JSON.stringify({ id, deleted: true }), err: '' });
    expect(await vreg(`registries show ${id}`)).toMatchObject({ code: 1, err: `vreg: registry ${id} not found` });
    expect(await vreg('registries show 424242')).toMatchObject({ code: 1, err: 'vreg: registry 424242 not found' });
    expect(await vreg(`registries update ${id}`)).toMatchObject({ code: 2 });
    expect(await vreg('registries show abc')).toMatchObject({ code: 2, err: 'vreg: the registry id must be a numeric id, not "abc"' });
    expect(await vreg('registries create --name q --max-stored-bytes lots')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--max-stored-bytes must be a size like 500MB'),
    });
    const quota = await vreg('registries create --name capped --max-stored-bytes 10GiB --json');
    expect(JSON.parse(quota.out)).toMatchObject({ name: 'capped', max_stored_bytes: 10 * 1024 ** 3 });
    expect((await vreg('registries list')).out).toMatch(/ capped +private +10\.0 GiB$/m);
  });

  it('adds, lists, reorders, moves, updates and removes upstreams', async () => {
    const reg = /registry (\d+)/.exec((await vreg('registries create --name ordered')).out)![1]!;
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const added = await vreg(`upstreams add ${reg} --name ${name} --url http://${name}.example:5000/ --json`);
      expect(added.code).toBe(0);
      ids.push((JSON.parse(added.out) as { id: string }).id);
    }
    const [a, b, c] = ids as [string, string, string];
    const names = async () => (JSON.parse((await vreg(`upstreams list ${reg} --json`)).out) as Array<{ name: string }>).map((u) => u.name);
    expect(await names()).toEqual(['a', 'b', 'c']);
    const reordered = await vreg(`upstreams reorder ${reg} ${c} ${a}`);
    expect(reordered.code).toBe(0);
    expect(reordered.out.split('\n')[0]).toMatch(/^POS +ID +NAME +URL/);
    expect(await names()).toEqual(['c', 'a', 'b']);
    expect((await vreg(`upstreams move ${b} --position 0`)).code).toBe(0);
    expect(await names()).toEqual(['b', 'c', 'a']);
    expect(await vreg(`upstreams reorder ${reg} ${a} ${a}`)).toMatchObject({
      code: 2,
      err: 'vreg: upstreams reorder: an upstream is listed twice',
    });
    expect(await vreg(`upstreams reorder ${reg} ${a} 99999`)).toMatchObject({
      code: 1,
      err: `vreg: upstream 99999 is not in registry ${reg}`,
    });
    expect(await vreg(`upstreams update ${a} --name alpha --cache-validity-hours 0`)).toMatchObject({
      code: 0,
      out: `Updated upstream ${a} "alpha" (http://a.example:5000), position 2.`,
    });
    expect(await vreg(`upstreams update ${a} --password hunter2`)).toMatchObject({ code: 2 });
    expect(await vreg(`upstreams remove ${c}`)).toMatchObject({ code: 0, err: `Removed upstream ${c} with its cache entries.` });
    expect(await names()).toEqual(['b', 'alpha']);
    expect(await vreg(`upstreams remove ${c}`)).toMatchObject({ code: 1, err: `vreg: upstream ${c} not found` });
    expect(await vreg(`upstreams add ${reg} --name x --url ftp://x`)).toMatchObject({
      code: 2,
      err: 'vreg: --url must be an http or https URL, not "ftp://x"',
    });
  });

  it('reads an upstream password from stdin only, never returning it', async () => {
    const reg = /registry (\d+)/.exec((await vreg('registries create --name secret')).out)![1]!;
    const io = captureIo({ stdin: 's3cret-pass\n' });
    const code = await runCli(
      ['upstreams', 'add', reg, '--name', 'p', '--url', 'http://p.example', '--username', 'bob', '--password-stdin'],
      { VREG_URL: url, VREG_TOKEN: ADMIN, XDG_CONFIG_HOME: '/nonexistent-vreg-test' },
      io,
    );
    expect(code).toBe(0);
    const listed = await vreg(`upstreams list ${reg}`);
    expect(listed.out).toMatch(/bob +set/);
    expect(listed.out).not.toContain('s3cret-pass');
  });

  it('prints help per command with exit code 0, and exit code 2 for an unknown one', async () => {
    for (const group of ['registries', 'upstreams', 'entries', 'purge', 'cleanup', 'usage', 'warm', 'gc', 'jobs', 'login', 'tokens']) {
      const help = await vregWith(`${group} --help`, {});
      expect(help.code, group).toBe(0);
      expect(help.out, group).toMatch(/^Usage:\n {2}vreg /);
    }
    expect((await vregWith('upstreams reorder --help', {})).out).toContain('vreg upstreams reorder <registry> <upstream>...');
    expect((await vregWith('help warm', {})).out).toContain('--platform');
    expect(await vregWith('frobnicate', { VREG_TOKEN: 'x' })).toMatchObject({
      code: 2,
      err: 'vreg: unknown command "frobnicate"; run vreg --help',
    });
    // A mistake in the arguments is told before a missing login.
    expect(await vregWith('warm', { XDG_CONFIG_HOME: '/nonexistent-vreg-test' })).toMatchObject({
      code: 2,
      err: 'vreg: warm needs a registry id and <image>:<tag> (see vreg warm --help)',
    });
  });
});

describe('vreg login and logout', () => {
  it('checks the token, saves url and token 0600, uses them, and env overrides them', async () => {
    const config = await mkdtemp(join(tmpdir(), 'vreg-cli-config-'));
    const env = { XDG_CONFIG_HOME: config };
    expect(await vregWith(`login --url ${url} --token-stdin`, env, 'wrong-token\n')).toMatchObject({
      code: 1,
      err: 'vreg: UNAUTHORIZED: the admin token is not valid',
    });
    await expect(stat(join(config, 'vreg', 'config.json'))).rejects.toThrow();
    expect(await vregWith(`login --url ${url}/ --token-stdin`, env, `${ADMIN}\n`)).toMatchObject({
      code: 0,
      err: `Logged in to ${url} (saved to ${join(config, 'vreg', 'config.json')}).`,
    });
    const file = join(config, 'vreg', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url, token: ADMIN });
    expect((await vregWith('registries list', env)).code).toBe(0);
    // VREG_TOKEN overrides the file; the saved token never goes to another VREG_URL.
    expect(await vregWith('registries list', { ...env, VREG_TOKEN: 'wrong-token' })).toMatchObject({ code: 1 });
    expect(await vregWith('registries list', { ...env, VREG_URL: 'http://127.0.0.1:9' })).toMatchObject({
      code: 2,
      err: expect.stringContaining('not logged in'),
    });
    expect(await vregWith('logout', env)).toMatchObject({ code: 0, err: `Logged out of ${url} (removed ${file}).` });
    expect(await vregWith('registries list', env)).toMatchObject({ code: 2 });
    expect(await vregWith('logout', env)).toMatchObject({ code: 0, err: 'Not logged in.' });
    expect(await vregWith('login --url ftp://x --token-stdin', env, ADMIN)).toMatchObject({ code: 2 });
    expect(await vregWith(`login --url ${url}`, env)).toMatchObject({ code: 2, err: expect.stringContaining('--token-stdin') });
  });

  it('asks for the token on a terminal without --token-stdin', async () => {
    const config = await mkdtemp(join(tmpdir(), 'vreg-cli-config-'));
    const io = captureIo({ typed: `${ADMIN}\n` });
    expect(await runCli(['login', '--url', url], { XDG_CONFIG_HOME: config }, io)).toBe(0);
    expect(io.stderrStream[0]).toBe(`Token for ${url}: `);
    expect(JSON.parse(await readFile(join(config, 'vreg', 'config.json'), 'utf8'))).toEqual({ url, token: ADMIN });
  });

  it('says the server is unreachable with exit code 1', async () => {
    const down = await vregWith('registries list', {
      VREG_URL: 'http://127.0.0.1:9',
      VREG_TOKEN: ADMIN,
      XDG_CONFIG_HOME: '/nonexistent-vreg-test',
    });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^vreg: cannot reach http:\/\/127\.0\.0\.1:9\/api\/v1: /);
  });
});
