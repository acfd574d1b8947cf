import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import { startEmbedded } from '../../src/embedded.ts';
import { loadEmbeddedConfig } from '../../src/embedded-config.ts';
import { AdminClient } from './admin-client.ts';
import type { AuthVregUnderTest } from './auth-scenarios.ts';
import { digestsOnDisk, LOCAL_UPSTREAMS } from './embedded-under-test.ts';

/**
 * Embedded vreg whose every log line (at trace level) goes to memory, so a
 * test can read what it logged. Its bus is in process: nothing to tap.
 */
export async function startEmbeddedWithLogs(extraEnv: Record<string, string> = {}): Promise<AuthVregUnderTest & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vreg-auth-embedded-'));
  const lines: string[] = [];
  const signingSeed = randomBytes(32).toString('hex');
  const config = loadEmbeddedConfig({
    VREG_LISTEN: '127.0.0.1:0',
    VREG_DATA_DIR: dataDir,
    VREG_LOG_LEVEL: 'trace',
    VREG_TOKEN_SIGNING_KEYS: signingSeed,
    ...LOCAL_UPSTREAMS,
    ...extraEnv,
  });
  const logger = createLogger({ level: 'trace', name: 'vreg-auth-test', destination: { write: (line: string) => void lines.push(line) } });
  const vreg = await startEmbedded(config, logger);
  return {
    dataDir,
    gatewayUrl: vreg.url,
    admin: new AdminClient(vreg.url, vreg.adminToken),
    storedDigests: () => digestsOnDisk(dataDir),
    signingSeed,
    logs: () => lines.join(''),
    published: () => undefined,
    async stop() {
      await vreg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
