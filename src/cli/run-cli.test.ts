import { randomBytes } from 'node:crypto';
import { MemoryEventBus } from '@vreg/bus';
import { buildApp, MemoryCatalogStore } from '@vreg/catalog';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiryFrom } from './tokens-command.ts';
import { runCli } from './run-cli.ts';

const ADMIN = 'cli-test-admin-token-0123';
let server: FastifyInstance;
let url: string;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'cli-test' });
  const app = buildApp({ objectsConcurrency: 1 }, { bus: new MemoryEventBus({ logger }), store: new MemoryCatalogStore(), secretBox: new SecretBox(randomBytes(32)), logger, adminToken: ADMIN });
  server = Fastify({ logger: false });
  await server.register(app.adminApi, { prefix: '/api/v1' });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => server?.close());

async function vreg(args: string, token = ADMIN): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args.split(' ').filter((a) => a !== ''), { VREG_URL: url, VREG_TOKEN: token }, { out: (t) => out.push(t), err: (t) => err.push(t), now: () => new Date() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the vreg CLI', () => {
  it('creates and lists registries', async () => {
    expect(await vreg('registries create --name hub --visibility public')).toMatchObject({ code: 0, out: 'Created public registry 1 "hub".' });
    expect((await vreg('registries create --name internal --description team')).out).toBe('Created private registry 2 "internal".');
    const list = await vreg('registries list');
    expect(list.out.split('\n')).toEqual(['ID  NAME      VISIBILITY  DESCRIPTION', '1   hub       public', '2   internal  private     team']);
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
    expect(await vreg('registries list', pull)).toMatchObject({ code: 1, err: 'vreg: DENIED: this access token does not have the admin scope' });
    expect(await vreg('registries list', 'wrong-token')).toMatchObject({ code: 1, err: 'vreg: UNAUTHORIZED: the admin token is not valid' });
  });

  it('answers usage mistakes with exit code 2 and server refusals with 1', async () => {
    expect((await vreg('tokens create')).code).toBe(2);
    expect((await vreg('tokens create --name x --bogus')).code).toBe(2);
    expect((await vreg('tokens revoke abc')).code).toBe(2);
    expect((await vreg('frobnicate')).code).toBe(2);
    expect((await vreg('tokens create --name x --registry 999')).code).toBe(1);
    const noToken = await runCli(['registries', 'list'], { VREG_URL: url }, { out: () => {}, err: () => {}, now: () => new Date() });
    expect(noToken).toBe(2);
  });

  it('turns --expires-in into a time', () => {
    expect(expiryFrom('2d', new Date('2030-01-01T00:00:00Z'))).toBe('2030-01-03T00:00:00.000Z');
    expect(expiryFrom('12h', new Date('2030-01-01T00:00:00Z'))).toBe('2030-01-01T12:00:00.000Z');
    expect(() => expiryFrom('soon', new Date())).toThrow();
  });
});
