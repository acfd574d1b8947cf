import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Reads a key file from the data directory, creating it (mode 0600) with
 * `make()` on first start. Returns whether it was created, so the caller can
 * show a generated admin token exactly once.
 */
export async function readOrCreateKeyFile(dataDir: string, name: string, make: () => string): Promise<{ value: string; created: boolean }> {
  const path = join(dataDir, name);
  try {
    return { value: (await readFile(path, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const value = make();
  // 'wx': never overwrite a key another process created meanwhile.
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

export const newAdminToken = (): string => `vreg_${randomBytes(24).toString('base64url')}`;
export const newSecretKey = (): string => randomBytes(32).toString('hex');
/** An Ed25519 seed (64 hex chars) signing registry tokens. */
export const newTokenSigningKey = (): string => randomBytes(32).toString('hex');
