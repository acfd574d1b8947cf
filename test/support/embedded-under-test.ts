import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import { startEmbedded } from '../../src/embedded.ts';
import { loadEmbeddedConfig } from '../../src/embedded-config.ts';
import { AdminClient } from './admin-client.ts';
import { type ServiceProcess, startService, stopService } from './distributed-under-test.ts';
import type { VregUnderTest } from './pull-scenarios.ts';

/** The test upstreams listen on 127.0.0.1, which vreg refuses unless allowed (SSRF guard). */
export const LOCAL_UPSTREAMS = { VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1' } as const;

/** Digests under `<dataDir>/blobs/<alg>/<2 hex>/<hex>`. */
export async function digestsOnDisk(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  const root = join(dataDir, 'blobs');
  for (const alg of await readdir(root).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(root, alg))) {
      for (const hex of await readdir(join(root, alg, prefix))) out.push(`${alg}:${hex}`);
    }
  }
  return out;
}

/** vreg in embedded mode, in this process, on a free port with a fresh data directory. */
export async function startEmbeddedUnderTest(extraEnv: Record<string, string> = {}): Promise<VregUnderTest & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vreg-embedded-'));
  const config = loadEmbeddedConfig({
    VREG_LISTEN: '127.0.0.1:0',
    VREG_DATA_DIR: dataDir,
    VREG_LOG_LEVEL: process.env.VREG_TEST_LOG_LEVEL ?? 'warn',
    ...LOCAL_UPSTREAMS,
    ...extraEnv,
  });
  const vreg = await startEmbedded(config, createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-test' }));
  return {
    dataDir,
    gatewayUrl: vreg.url,
    admin: new AdminClient(vreg.url, vreg.adminToken),
    storedDigests: () => digestsOnDisk(dataDir),
    async stop() {
      await vreg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * vreg in embedded mode as its own process, the way `npm start` runs it
 * (`src/main.ts`), with a fresh data directory: for what only a real
 * process shows (worker processes with VREG_WORKERS, signals, exit codes).
 */
export async function startEmbeddedProcessUnderTest(
  extraEnv: Record<string, string> = {},
): Promise<VregUnderTest & { dataDir: string; process: ServiceProcess }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vreg-embedded-'));
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  const service = await startService('embedded', {
    VREG_DATA_DIR: dataDir,
    VREG_ADMIN_TOKEN: adminToken,
    VREG_LOG_LEVEL: process.env.VREG_TEST_LOG_LEVEL ?? 'warn',
    ...LOCAL_UPSTREAMS,
    ...extraEnv,
  });
  return {
    dataDir,
    process: service,
    gatewayUrl: service.url,
    admin: new AdminClient(service.url, adminToken),
    storedDigests: () => digestsOnDisk(dataDir),
    async stop() {
      await stopService(service);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
