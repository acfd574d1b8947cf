import { resolve } from 'node:path';
import { TokenKeyRing } from '@vreg/gateway';
import type { Logger } from '@vreg/logging';
import { type SecretBox, secretBoxFromEnv } from '@vreg/secrets';
import { secureDataDir } from './data-dir-modes.ts';
import type { EmbeddedConfig } from './embedded-config.ts';
import { newAdminToken, newSecretKey, newTokenSigningKey, readOrCreateKeyFile } from './local-keys.ts';

export interface EmbeddedKeys {
  dataDir: string;
  admin: { value: string; created: boolean };
  secrets: SecretBox;
  signingKeys: TokenKeyRing;
}

/**
 * The data directory and the keys of embedded mode: each from its setting,
 * else from its file in the data directory, created (mode 0600) on first
 * start, in a data directory made owner-only (secureDataDir). Worker
 * processes call this after the primary did, so they read the files it
 * created.
 */
export async function loadEmbeddedKeys(config: EmbeddedConfig, logger: Logger): Promise<EmbeddedKeys> {
  const dataDir = resolve(config.VREG_DATA_DIR);
  await secureDataDir(dataDir, logger);
  const admin = config.VREG_ADMIN_TOKEN
    ? { value: config.VREG_ADMIN_TOKEN, created: false }
    : await readOrCreateKeyFile(dataDir, 'admin-token', newAdminToken);
  const secretKey = config.VREG_SECRET_KEY
    ? { value: config.VREG_SECRET_KEY }
    : await readOrCreateKeyFile(dataDir, 'secret.key', newSecretKey);
  const secrets = secretBoxFromEnv({ VREG_SECRET_KEY: secretKey.value, VREG_SECRET_KEY_PREVIOUS: config.VREG_SECRET_KEY_PREVIOUS });
  const signingKeys = await TokenKeyRing.parse(
    config.VREG_TOKEN_SIGNING_KEYS ?? (await readOrCreateKeyFile(dataDir, 'token-signing.key', newTokenSigningKey)).value,
  );
  return { dataDir, admin, secrets, signingKeys };
}
