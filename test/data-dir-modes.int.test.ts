import { chmod, lstat, mkdtemp, opendir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createLogger } from '@vreg/logging';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/embedded.ts';
import { loadEmbeddedConfig } from '../src/embedded-config.ts';
import { AdminClient } from './support/admin-client.ts';
import { LOCAL_UPSTREAMS } from './support/embedded-under-test.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/** Every directory and regular file under `root` (the root too), with its permission bits. Modes, not access: the test may run as root. */
async function modesUnder(root: string): Promise<Map<string, { kind: 'dir' | 'file'; mode: number }>> {
  const out = new Map<string, { kind: 'dir' | 'file'; mode: number }>([['.', { kind: 'dir', mode: (await lstat(root)).mode & 0o7777 }]]);
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for await (const entry of await opendir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      if (entry.isDirectory() || entry.isFile())
        out.set(relative(root, path), { kind: entry.isDirectory() ? 'dir' : 'file', mode: (await lstat(path)).mode & 0o7777 });
    }
  }
  return out;
}

/** Entries whose mode is not owner-only (0700 directories, 0600 files). */
function notOwnerOnly(modes: Map<string, { kind: 'dir' | 'file'; mode: number }>): string[] {
  return [...modes]
    .filter(([, m]) => m.mode !== (m.kind === 'dir' ? 0o700 : 0o600))
    .map(([path, m]) => `${path} ${m.kind} ${m.mode.toString(8)}`);
}

describe('the data directory is owner-only (embedded vreg)', () => {
  const env = testEnv();
  let dataDir: string | undefined;
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function start(dir: string): Promise<{ url: string; admin: AdminClient }> {
    const config = loadEmbeddedConfig({ VREG_LISTEN: '127.0.0.1:0', VREG_DATA_DIR: dir, VREG_LOG_LEVEL: 'warn', ...LOCAL_UPSTREAMS });
    const vreg = await startEmbedded(config, createLogger({ level: 'warn', name: 'vreg-test' }));
    stop = () => vreg.stop();
    return { url: vreg.url, admin: new AdminClient(vreg.url, vreg.adminToken) };
  }

  async function pullBusybox(url: string, admin: AdminClient): Promise<void> {
    const { id } = await admin.createRegistry(`modes-${Date.now()}`);
    const upstream = await admin.addUpstream(id, { name: 'a', url: env.upstreamA });
    await skopeoPull(env.skopeo, `${hostOf(url)}/virtual_registries/containers/${id}/library/busybox:latest`);
    await waitFor('the pull recorded', async () =>
      (await admin.cacheEntries(upstream.id)).some((e) => String(e.relative_path).includes('/blobs/')) ? true : undefined,
    );
  }

  it('holds only 0700 directories and 0600 files after a pull: blobs, SQLite with its -wal and -shm, keys, the admin token', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vreg-modes-'));
    await rm(dataDir, { recursive: true }); // vreg creates it
    const { url, admin } = await start(dataDir);
    await pullBusybox(url, admin);
    const modes = await modesUnder(dataDir);
    for (const expected of [
      'admin-token',
      'secret.key',
      'token-signing.key',
      'catalog.sqlite',
      'catalog.sqlite-wal',
      'catalog.sqlite-shm',
      'blobs',
    ])
      expect([...modes.keys()], expected).toContain(expected);
    expect([...modes.keys()].filter((p) => p.startsWith('blobs/sha256/') && modes.get(p)?.kind === 'file').length).toBeGreaterThan(1);
    expect(notOwnerOnly(modes)).toEqual([]);
  });

  it('tightens a data directory an older vreg left readable (0755 directories, 0644 files) when it starts', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vreg-modes-'));
    const first = await start(dataDir);
    await pullBusybox(first.url, first.admin);
    await stop?.();
    stop = undefined;
    // What an older vreg left behind.
    for (const [path, m] of await modesUnder(dataDir)) await chmod(join(dataDir, path), m.kind === 'dir' ? 0o755 : 0o644);
    expect(notOwnerOnly(await modesUnder(dataDir)).length).toBeGreaterThan(5);
    const again = await start(dataDir);
    expect(notOwnerOnly(await modesUnder(dataDir))).toEqual([]);
    // And it still serves what it cached.
    expect((await again.admin.call('GET', '/registries')).status).toBe(200);
  });
});
