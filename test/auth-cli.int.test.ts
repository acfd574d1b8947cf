import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkopeoClient } from './support/auth-clients.ts';
import { startEmbeddedWithLogs } from './support/auth-embedded.ts';
import type { AuthVregUnderTest } from './support/auth-scenarios.ts';
import { hostOf } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/vreg.mjs');

describe('the vreg command (bin/vreg.mjs) against embedded vreg', () => {
  const env = testEnv();
  let vreg: AuthVregUnderTest;
  const vregCli = async (token: string, ...args: string[]) =>
    (
      await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', VREG_URL: vreg.gatewayUrl, VREG_TOKEN: token } })
    ).stdout.trim();

  beforeAll(async () => {
    vreg = await startEmbeddedWithLogs();
  });
  afterAll(async () => vreg?.stop());

  it('creates a private registry and a token for it that docker-style clients log in with', async () => {
    expect(await vregCli(vreg.admin.token, 'registries', 'create', '--name', 'from-cli')).toMatch(
      /^Created private registry (\d+) "from-cli"\.$/,
    );
    const id = JSON.parse(await vregCli(vreg.admin.token, 'registries', 'list', '--json'))[0].id as string;
    await vreg.admin.addUpstream(id, { name: 'a', url: env.upstreamA });
    const token = await vregCli(vreg.admin.token, 'tokens', 'create', '--name', 'laptop', '--registry', id, '--expires-in', '1d');
    expect(token).toMatch(/^vregat_/);
    const client = await SkopeoClient.create(env.skopeo);
    expect((await client.login(hostOf(vreg.gatewayUrl), 'me', token)).ok).toBe(true);
    const pulled = await client.pull(`${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${id}/library/busybox:latest`);
    expect(pulled.ok, pulled.stderr).toBe(true);
    expect(await vregCli(vreg.admin.token, 'tokens', 'list')).toMatch(/laptop .* active$/m);
    expect(vreg.logs()).not.toContain(token);
  });
});
